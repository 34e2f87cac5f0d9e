//! The search command's options, as Splunk passes them in getinfo's
//! `searchinfo.args`: one `name=value` string each, quotes already stripped
//! by Splunk, in any order.

use crate::chunk::DEFAULT_MAX_CHUNK_BYTES;
use crate::error::{Error, Result};
use crate::stats::DEFAULT_MAX_GROUPS;

/// The default wildcard: the ESCU hunt's `ScriptBlockText` condition.
pub const DEFAULT_PATTERN: &str = "*Get-NetTcpconnection*";

/// The default field that the patterns test.
pub const DEFAULT_FIELD: &str = "ScriptBlockText";

/// The default fillnull value: `fillnull`'s own default, "0".
pub const DEFAULT_VALUE: &str = "0";

/// The hunt's 13 BY fields, in the order the ESCU search lists them.
pub const DEFAULT_BY: [&str; 13] = [
    "dest",
    "signature",
    "signature_id",
    "user_id",
    "vendor_product",
    "EventID",
    "Guid",
    "Opcode",
    "Name",
    "Path",
    "ProcessID",
    "ScriptBlockId",
    "ScriptBlockText",
];

/// Every option name the command knows, for error messages.
pub const OPTION_NAMES: [&str; 6] = [
    "pattern",
    "field",
    "by",
    "value",
    "max_chunk_bytes",
    "max_groups",
];

/// The parsed options of one invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Wildcards tested against `field`; an event matches when any does.
    /// Default: `*Get-NetTcpconnection*`.
    pub patterns: Vec<String>,
    /// The field the patterns test. Default: `ScriptBlockText`.
    pub field: String,
    /// The stats BY fields, in output order. Default: the 13 ESCU fields.
    pub by: Vec<String>,
    /// The fillnull value. Default: `0`.
    pub value: String,
    /// Largest metadata plus body accepted in one execute chunk, in bytes.
    /// Default: `DEFAULT_MAX_CHUNK_BYTES` (1 GiB). The getinfo chunk that
    /// carries this option is always read under the default.
    pub max_chunk_bytes: u64,
    /// Most stats groups held at once. Default: `DEFAULT_MAX_GROUPS`
    /// (1,000,000, Splunk's `max_keymap_rows`).
    pub max_groups: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            patterns: vec![DEFAULT_PATTERN.to_string()],
            field: DEFAULT_FIELD.to_string(),
            by: DEFAULT_BY.iter().map(|s| s.to_string()).collect(),
            value: DEFAULT_VALUE.to_string(),
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
            max_groups: DEFAULT_MAX_GROUPS,
        }
    }
}

impl Options {
    /// Parses Splunk's argument list. Every argument must be `name=value`
    /// with a known name; `pattern` may repeat, the others may not.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Options> {
        let mut options = Options::default();
        let mut patterns = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for arg in args {
            let arg = arg.as_ref();
            let Some((name, value)) = arg.split_once('=') else {
                return Err(unknown(arg));
            };
            let name = name.trim();
            if name != "pattern" {
                if seen.contains(&name) {
                    return Err(Error::option(format!(
                        "option {name} is given more than once; it takes \
                         one value"
                    )));
                }
                if let Some(known) = OPTION_NAMES.iter().find(|n| **n == name)
                {
                    seen.push(known);
                }
            }
            match name {
                "pattern" => {
                    if value.is_empty() {
                        return Err(Error::option(
                            "option pattern needs a wildcard, such as \
                             pattern=*Get-NetTcpconnection*",
                        ));
                    }
                    patterns.push(value.to_string());
                }
                "field" => options.field = field_name("field", value)?,
                "by" => options.by = field_list(value)?,
                "value" => options.value = value.to_string(),
                "max_chunk_bytes" => {
                    options.max_chunk_bytes = limit(name, value, "bytes")?
                }
                "max_groups" => {
                    options.max_groups = limit(name, value, "groups")?
                }
                _ => return Err(unknown(arg)),
            }
        }
        if !patterns.is_empty() {
            options.patterns = patterns;
        }
        Ok(options)
    }

    /// The options as `name=value` arguments, the form `parse` reads.
    pub fn to_args(&self) -> Vec<String> {
        let mut args: Vec<String> = self
            .patterns
            .iter()
            .map(|p| format!("pattern={p}"))
            .collect();
        args.push(format!("field={}", self.field));
        args.push(format!("by={}", self.by.join(",")));
        args.push(format!("value={}", self.value));
        if self.max_chunk_bytes != DEFAULT_MAX_CHUNK_BYTES {
            args.push(format!("max_chunk_bytes={}", self.max_chunk_bytes));
        }
        if self.max_groups != DEFAULT_MAX_GROUPS {
            args.push(format!("max_groups={}", self.max_groups));
        }
        args
    }
}

/// The error for an argument that is not a known `name=value` option.
fn unknown(arg: &str) -> Error {
    let shown: String = arg.chars().take(60).collect();
    Error::option(format!(
        "unknown option '{shown}'; valid options are {} (each as \
         name=value)",
        OPTION_NAMES.join(", ")
    ))
}

/// Parses a limit: a whole number, at least 1, in decimal digits only.
fn limit<T: std::str::FromStr>(
    option: &str,
    value: &str,
    unit: &str,
) -> Result<T> {
    let digits = value.trim();
    let parsed = digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse::<T>().ok())
        .flatten();
    let zero = !digits.is_empty() && digits.bytes().all(|b| b == b'0');
    match parsed {
        Some(n) if !zero => Ok(n),
        _ => {
            let shown: String = value.chars().take(40).collect();
            Err(Error::option(format!(
                "option {option} needs a whole number of {unit}, at \
                 least 1, got '{shown}'"
            )))
        }
    }
}

/// Checks a single field name: not empty, no comma.
fn field_name(option: &str, value: &str) -> Result<String> {
    let name = value.trim();
    if name.is_empty() {
        return Err(Error::option(format!(
            "option {option} needs a field name"
        )));
    }
    if name.contains(',') {
        return Err(Error::option(format!(
            "option {option} takes one field name, got '{name}'"
        )));
    }
    Ok(name.to_string())
}

/// Parses `f1,f2,...`: at least one name, none empty, none repeated.
fn field_list(value: &str) -> Result<Vec<String>> {
    let mut fields: Vec<String> = Vec::new();
    for item in value.split(',') {
        let name = item.trim();
        if name.is_empty() {
            return Err(Error::option(format!(
                "option by needs a comma-separated list of field names, \
                 got '{value}'"
            )));
        }
        if fields.iter().any(|f| f == name) {
            return Err(Error::option(format!(
                "option by lists field {name} twice"
            )));
        }
        fields.push(name.to_string());
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_give_the_escu_hunt() {
        let options = Options::parse::<&str>(&[]).unwrap();
        assert_eq!(options.patterns, vec!["*Get-NetTcpconnection*"]);
        assert_eq!(options.field, "ScriptBlockText");
        assert_eq!(options.by.len(), 13);
        assert_eq!(options.by[0], "dest");
        assert_eq!(options.by[12], "ScriptBlockText");
        assert_eq!(options.value, "0");
    }

    #[test]
    fn options_in_any_order_and_repeated_patterns() {
        let options = Options::parse(&[
            "by=a, b",
            "pattern=*x*",
            "value=unknown",
            "field=text",
            "pattern=y*",
        ])
        .unwrap();
        assert_eq!(options.patterns, vec!["*x*", "y*"]);
        assert_eq!(options.by, vec!["a", "b"]);
        assert_eq!(options.field, "text");
        assert_eq!(options.value, "unknown");
        assert_eq!(Options::parse(&options.to_args()).unwrap(), options);
    }

    #[test]
    fn values_keep_quotes_spaces_equals_and_unicode() {
        let options =
            Options::parse(&["pattern=*a \"b\"=c ж*", "value= x=y "]).unwrap();
        assert_eq!(options.patterns, vec!["*a \"b\"=c ж*"]);
        assert_eq!(options.value, " x=y ");
    }

    #[test]
    fn unknown_option_names_the_valid_ones() {
        let err = Options::parse(&["bogus=1"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown option 'bogus=1'; valid options are pattern, field, \
             by, value, max_chunk_bytes, max_groups (each as name=value)"
        );
        let err = Options::parse(&["ScriptBlockText"]).unwrap_err();
        assert!(err.to_string().starts_with("unknown option"), "{err}");
    }

    #[test]
    fn repeated_single_valued_option_is_refused() {
        let err = Options::parse(&["field=a", "field=b"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "option field is given more than once; it takes one value"
        );
    }

    #[test]
    fn limits_are_whole_numbers_of_at_least_one() {
        let options =
            Options::parse(&["max_chunk_bytes=4096", "max_groups= 7 "])
                .unwrap();
        assert_eq!(options.max_chunk_bytes, 4096);
        assert_eq!(options.max_groups, 7);
        assert_eq!(Options::parse(&options.to_args()).unwrap(), options);
        let defaults = Options::parse::<&str>(&[]).unwrap();
        assert_eq!(defaults.max_chunk_bytes, 1 << 30);
        assert_eq!(defaults.max_groups, 1_000_000);
        assert!(!defaults.to_args().iter().any(|a| a.starts_with("max_")));
        for bad in [
            "max_groups=0",
            "max_groups=000",
            "max_groups=-1",
            "max_groups=+5",
            "max_groups=1e6",
            "max_groups=",
            "max_chunk_bytes=99999999999999999999999",
            "max_chunk_bytes=1 GiB",
        ] {
            let err = Options::parse(&[bad]).unwrap_err().to_string();
            let name = &bad[..bad.find('=').unwrap()];
            assert!(
                err.starts_with(&format!(
                    "option {name} needs a whole number of"
                )),
                "{bad}: {err}"
            );
        }
        let err = Options::parse(&["max_groups=x", "max_groups=1"]);
        assert!(err.is_err());
        let twice = Options::parse(&["max_groups=1", "max_groups=2"]);
        assert_eq!(
            twice.unwrap_err().to_string(),
            "option max_groups is given more than once; it takes one value"
        );
    }

    #[test]
    fn empty_lists_and_names_are_refused() {
        for bad in ["by=", "by=a,,b", "by=a,a", "field=", "pattern="] {
            assert!(Options::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
