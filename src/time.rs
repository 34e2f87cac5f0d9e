//! `convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(field)`, the ESCU macro
//! `security_content_ctime`, for the offline front ends.
//!
//! The value is epoch seconds; the fraction is dropped (the format has no
//! sub-second part, and the time is truncated toward the earlier second).
//! It renders in a time zone: Splunk uses the user's zone, else the
//! server's. A value that is not a number is left as it is, as `convert`
//! leaves values it cannot convert.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::error::{Error, Result};

/// The zone for `name`: an IANA name such as `Europe/Berlin`, or `UTC`.
pub fn zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|e| {
        Error::usage(format!("--tz {name}: not a known time zone ({e})"))
    })
}

/// Renders epoch-seconds text as `%Y-%m-%dT%H:%M:%S` in `tz`.
pub fn ctime(value: &[u8], tz: &TimeZone) -> Vec<u8> {
    let Some(seconds) = crate::order::number(value) else {
        return value.to_vec();
    };
    let whole = seconds.floor();
    if !(-8e12..8e12).contains(&whole) {
        return value.to_vec();
    }
    match Timestamp::from_second(whole as i64) {
        Ok(ts) => ts
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S")
            .to_string()
            .into_bytes(),
        Err(_) => value.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_utc_dropping_the_fraction() {
        let utc = zone("UTC").unwrap();
        assert_eq!(ctime(b"1629817860.123", &utc), b"2021-08-24T15:11:00");
        assert_eq!(ctime(b"1651495181.999", &utc), b"2022-05-02T12:39:41");
        assert_eq!(ctime(b"0", &utc), b"1970-01-01T00:00:00");
    }

    #[test]
    fn renders_in_a_named_zone() {
        // America/Los_Angeles is UTC-7 in August.
        let la = zone("America/Los_Angeles").unwrap();
        assert_eq!(ctime(b"1629817860.123", &la), b"2021-08-24T08:11:00");
    }

    #[test]
    fn leaves_non_numbers_alone() {
        let utc = zone("UTC").unwrap();
        assert_eq!(ctime(b"soon", &utc), b"soon");
        assert_eq!(ctime(b"", &utc), b"");
    }

    #[test]
    fn unknown_zone_is_an_error() {
        assert!(zone("Mars/Olympus").is_err());
    }
}
