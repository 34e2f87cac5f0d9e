//! `_time` for events that do not come as XmlWinEventLog text: the time
//! strings of JSON lines and Splunk CSV exports, made into the epoch-seconds
//! text that XmlWinEventLog's `SystemTime` gives (see
//! [`crate::winevent::epoch_text`]).
//!
//! Three shapes are read:
//! - epoch seconds, as Splunk writes `_time` in `outputcsv`
//!   (`1689744769.048`): kept as they are;
//! - ISO 8601 with a zone (`2023-07-19T05:32:49.048Z`,
//!   `2023-07-19T07:32:49.048+02:00`, `...+0200`), as OTRF, Winlogbeat,
//!   NXLog's newer formats and Splunk's CSV export write them;
//! - a date and time without a zone (`2023-07-19 07:32:49`, NXLog's
//!   default `EventTime`): read in the zone given (the `--tz` zone), because
//!   such a time was written in some local zone that the file does not
//!   name.
//!
//! The fraction is cut to microseconds, as Splunk keeps sub-seconds to the
//! microsecond; a time without a fraction simply has none (`ctime` drops
//! the fraction anyway, so the rendered `firstTime`/`lastTime` are the
//! same).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The epoch-seconds text of `text`, or `None` when it is no time this
/// module reads. `tz` is the zone of a time written without one.
pub fn epoch(text: &str, tz: &TimeZone) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if crate::order::number(text.as_bytes()).is_some() {
        return Some(text.to_string());
    }
    let (whole, fraction) = split_fraction(text);
    let seconds = match whole.parse::<Timestamp>() {
        Ok(ts) => ts.as_second(),
        Err(_) => {
            let civil =
                whole.replacen(' ', "T", 1).parse::<DateTime>().ok()?;
            civil.to_zoned(tz.clone()).ok()?.timestamp().as_second()
        }
    };
    Some(with_fraction(seconds, &fraction))
}

/// Splits `2023-07-19T05:32:49.048+02:00` into the time without its
/// fraction (`2023-07-19T05:32:49+02:00`) and the fraction's digits
/// (`048`).
fn split_fraction(text: &str) -> (String, String) {
    let Some(dot) = text.find(['.', ',']) else {
        return (normalise_offset(text), String::new());
    };
    let rest = &text[dot + 1..];
    let digits: String =
        rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let whole = format!("{}{}", &text[..dot], &rest[digits.len()..]);
    (normalise_offset(&whole), digits)
}

/// Turns a trailing `+0200` offset into `+02:00`, the form the parser
/// reads; anything else is left as it is.
fn normalise_offset(text: &str) -> String {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n >= 5
        && matches!(bytes[n - 5], b'+' | b'-')
        && bytes[n - 4..].iter().all(u8::is_ascii_digit)
        && text[..n - 5].contains('T')
    {
        return format!("{}:{}", &text[..n - 2], &text[n - 2..]);
    }
    text.to_string()
}

/// `seconds` followed by up to six digits of `fraction`, trailing zeros
/// dropped, as [`crate::winevent::epoch_text`] writes them.
fn with_fraction(seconds: i64, fraction: &str) -> String {
    let mut fraction: String = fraction.chars().take(6).collect();
    while fraction.ends_with('0') {
        fraction.pop();
    }
    if fraction.is_empty() {
        seconds.to_string()
    } else {
        format!("{seconds}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, zone: &str) -> Option<String> {
        epoch(text, &TimeZone::get(zone).unwrap())
    }

    #[test]
    fn iso_with_a_zone() {
        // 2023-07-19T05:32:49Z is 1689744769 (date -u -d ... +%s).
        assert_eq!(
            at("2023-07-19T05:32:49.048Z", "UTC").unwrap(),
            "1689744769.048"
        );
        assert_eq!(
            at("2023-07-19T07:32:49.048+02:00", "UTC").unwrap(),
            "1689744769.048"
        );
        assert_eq!(
            at("2023-07-19T07:32:49.048+0200", "Asia/Tokyo").unwrap(),
            "1689744769.048"
        );
        assert_eq!(
            at("2020-02-04T14:59:39.343541+00:00", "UTC").unwrap(),
            "1580828379.343541"
        );
        assert_eq!(
            at("2023-07-19T05:32:49.1234567Z", "UTC").unwrap(),
            "1689744769.123456"
        );
        assert_eq!(at("2023-07-19T05:32:49Z", "UTC").unwrap(), "1689744769");
    }

    #[test]
    fn without_a_zone_reads_in_the_given_zone() {
        assert_eq!(at("2023-07-19 05:32:49", "UTC").unwrap(), "1689744769");
        // Berlin is UTC+2 in July.
        assert_eq!(
            at("2023-07-19 07:32:49", "Europe/Berlin").unwrap(),
            "1689744769"
        );
        assert_eq!(
            at("2023-07-19T07:32:49.5", "Europe/Berlin").unwrap(),
            "1689744769.5"
        );
    }

    #[test]
    fn epoch_seconds_stay_and_garbage_is_none() {
        assert_eq!(at("1689744769.048", "UTC").unwrap(), "1689744769.048");
        assert_eq!(at("", "UTC"), None);
        assert_eq!(at("yesterday", "UTC"), None);
        assert_eq!(at("2023-13-45 99:00:00", "UTC"), None);
    }
}
