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

/// Every option name the command knows, for error messages. `phase` is
/// left out: only the streaming preop that `distributed=true` sends uses
/// it.
pub const OPTION_NAMES: [&str; 12] = [
    "pattern",
    "condition",
    "hunts",
    "hunts_file",
    "field",
    "by",
    "value",
    "distributed",
    "reassemble",
    "reassembly_limit",
    "max_chunk_bytes",
    "max_groups",
];

/// Which side of the map/reduce split an invocation is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// The reporting command on the search head (the SDK's default phase
    /// name). Default.
    #[default]
    Reduce,
    /// The streaming preop on the indexers: `phase=map`.
    Map,
}

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
    /// An SPL condition over `field`, in place of `patterns`; checked when
    /// the search is built (`catalog::plan`). Default: none.
    pub condition: Option<String>,
    /// `all`, or a comma-separated list of hunt names or ids from the
    /// catalog, in place of `patterns`/`condition` and `by`. Default: none.
    pub hunts: Option<String>,
    /// A file of more hunts, in the format of the built-in catalog.
    /// Default: none.
    pub hunts_file: Option<String>,
    /// `distributed`: ask Splunk to run a map phase on the indexers and
    /// read its partial rows. Default: false.
    pub distributed: bool,
    /// `phase`: `map` in the streaming preop, else `reduce`.
    pub phase: Phase,
    /// `reassemble`: join script blocks split across several 4104 events
    /// before matching. Default: false (Splunk's own answer).
    pub reassemble: bool,
    /// `reassembly_limit`: bytes of pieces held at most while blocks wait
    /// for their other pieces. Default: 256 MiB.
    pub reassembly_limit: usize,
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
            condition: None,
            hunts: None,
            hunts_file: None,
            distributed: false,
            phase: Phase::Reduce,
            reassemble: false,
            reassembly_limit: crate::reassembly::DEFAULT_LIMIT_BYTES,
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
                "value" => options.value = fill_value(value)?,
                "condition" => options.condition = Some(value.to_string()),
                "hunts" => options.hunts = Some(value.to_string()),
                "hunts_file" => {
                    options.hunts_file = Some(value.trim().to_string())
                }
                "distributed" => {
                    options.distributed = boolean("distributed", value)?
                }
                "phase" => options.phase = phase(value)?,
                "reassemble" => {
                    options.reassemble = boolean("reassemble", value)?
                }
                "reassembly_limit" => {
                    options.reassembly_limit = byte_count(value)?
                }
                "max_chunk_bytes" => {
                    options.max_chunk_bytes = limit(name, value, "bytes")?
                }
                "max_groups" => {
                    options.max_groups = limit(name, value, "groups")?
                }
                _ => return Err(unknown(arg)),
            }
        }
        exclusive(&seen, !patterns.is_empty())?;
        if !patterns.is_empty() {
            options.patterns = patterns;
        }
        if options.distributed && options.phase == Phase::Map {
            return Err(Error::option(
                "phase=map is the map phase that distributed=true starts \
                 on the indexers; it cannot be distributed itself",
            ));
        }
        let split = options.distributed || options.phase == Phase::Map;
        if split && options.hunts.is_some() {
            return Err(Error::option(
                "option hunts cannot be combined with distributed=true: the \
                 map phase carries the groups of one search; run hunts= \
                 without distributed",
            ));
        }
        Ok(options)
    }

    /// The options as `name=value` arguments, the form `parse` reads.
    pub fn to_args(&self) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        if self.condition.is_none() && self.hunts.is_none() {
            args.extend(self.patterns.iter().map(|p| format!("pattern={p}")));
        }
        if self.hunts.is_none() {
            args.push(format!("field={}", self.field));
            args.push(format!("by={}", self.by.join(",")));
        }
        args.push(format!("value={}", self.value));
        for (name, value) in [
            ("condition", &self.condition),
            ("hunts", &self.hunts),
            ("hunts_file", &self.hunts_file),
        ] {
            if let Some(value) = value {
                args.push(format!("{name}={value}"));
            }
        }
        if self.distributed {
            args.push("distributed=true".to_string());
        }
        if self.phase == Phase::Map {
            args.push("phase=map".to_string());
        }
        if self.reassemble {
            args.push("reassemble=true".to_string());
        }
        if self.reassembly_limit != crate::reassembly::DEFAULT_LIMIT_BYTES {
            args.push(format!("reassembly_limit={}", self.reassembly_limit));
        }
        if self.max_chunk_bytes != DEFAULT_MAX_CHUNK_BYTES {
            args.push(format!("max_chunk_bytes={}", self.max_chunk_bytes));
        }
        if self.max_groups != DEFAULT_MAX_GROUPS {
            args.push(format!("max_groups={}", self.max_groups));
        }
        args
    }
}

/// Refuses options that cannot go together: `pattern` with `condition`,
/// and `hunts` (whose hunts bring their own conditions, BY lists and
/// field) with `pattern`, `condition`, `by` or `field`; `hunts_file` only
/// adds hunts to choose from, so it needs `hunts`.
fn exclusive(seen: &[&str], patterns: bool) -> Result<()> {
    let has = |name: &str| seen.contains(&name);
    if patterns && has("condition") {
        return Err(Error::option(
            "options pattern and condition cannot be combined; write the \
             patterns into the condition with OR",
        ));
    }
    if has("hunts") {
        let mut clash: Vec<&str> = Vec::new();
        if patterns {
            clash.push("pattern");
        }
        clash.extend(
            ["condition", "by", "field"].into_iter().filter(|n| has(n)),
        );
        if let Some(first) = clash.first() {
            return Err(Error::option(format!(
                "option {first} cannot be combined with hunts: each hunt \
                 brings its own condition on ScriptBlockText and BY list"
            )));
        }
    } else if has("hunts_file") {
        return Err(Error::option(
            "option hunts_file needs hunts=, which chooses among the hunts \
             (hunts=all runs every one)",
        ));
    }
    Ok(())
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

/// Parses a boolean the way Splunk's SDK does (`validators.Boolean`):
/// `1 t true y yes` and `0 f false n no`, in any case.
fn boolean(option: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" => Ok(true),
        "0" | "f" | "false" | "n" | "no" => Ok(false),
        _ => {
            let shown: String = value.chars().take(40).collect();
            Err(Error::option(format!(
                "option {option} takes true or false (also t, f, yes, no, \
                 1, 0), got '{shown}'"
            )))
        }
    }
}

/// Parses a byte count: a whole number, at least 1.
fn byte_count(value: &str) -> Result<usize> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => {
            let shown: String = value.chars().take(40).collect();
            Err(Error::option(format!(
                "option reassembly_limit takes a number of bytes above 0, \
                 got '{shown}'"
            )))
        }
    }
}

/// Parses `phase`: `map` or `reduce`, as the SDK's reporting commands name
/// their phases.
fn phase(value: &str) -> Result<Phase> {
    match value.trim() {
        "map" => Ok(Phase::Map),
        "reduce" => Ok(Phase::Reduce),
        other => {
            let shown: String = other.chars().take(40).collect();
            Err(Error::option(format!(
                "option phase takes map or reduce, got '{shown}'"
            )))
        }
    }
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
    let mut seen = std::collections::HashSet::new();
    for item in value.split(',') {
        let name = item.trim();
        if name.is_empty() {
            let shown: String = value.chars().take(60).collect();
            return Err(Error::option(format!(
                "option by needs a comma-separated list of field names, \
                 got '{shown}'"
            )));
        }
        if OUTPUT_COLUMNS.contains(&name) {
            return Err(Error::option(format!(
                "option by cannot list {name}: count, firstTime and \
                 lastTime are the output's own columns"
            )));
        }
        if !seen.insert(name) {
            return Err(Error::option(format!(
                "option by lists field {name} twice"
            )));
        }
        fields.push(name.to_string());
    }
    Ok(fields)
}

/// The columns the command adds after the BY fields.
const OUTPUT_COLUMNS: [&str; 3] = ["count", "firstTime", "lastTime"];

/// Checks the fillnull value: an empty one is refused, because an empty
/// cell is how Splunk's CSV says null, so filled fields would come back
/// to Splunk as nulls.
fn fill_value(value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::option(
            "option value needs a non-empty text: Splunk reads an empty \
             cell back as a null field",
        ));
    }
    Ok(value.to_string())
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
            "unknown option 'bogus=1'; valid options are pattern, \
             condition, hunts, hunts_file, field, by, value, distributed, \
             reassemble, reassembly_limit, max_chunk_bytes, max_groups (each \
             as name=value)"
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
    fn distributed_takes_splunk_booleans() {
        for (text, want) in [
            ("true", true),
            ("T", true),
            ("1", true),
            ("yes", true),
            ("Y", true),
            ("FALSE", false),
            ("f", false),
            ("0", false),
            ("no", false),
            ("n", false),
        ] {
            let arg = format!("distributed={text}");
            let options = Options::parse(&[arg.as_str()]).unwrap();
            assert_eq!(options.distributed, want, "{arg}");
        }
        assert!(!Options::default().distributed);
        let err = Options::parse(&["distributed=maybe"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "option distributed takes true or false (also t, f, yes, no, \
             1, 0), got 'maybe'"
        );
    }

    #[test]
    fn phase_map_is_parsed_and_cannot_be_distributed() {
        let options = Options::parse(&["by=a", "phase=map"]).unwrap();
        assert_eq!(options.phase, Phase::Map);
        assert_eq!(Options::parse(&options.to_args()).unwrap(), options);
        let options = Options::parse(&["distributed=t"]).unwrap();
        assert_eq!(options.phase, Phase::Reduce);
        assert_eq!(Options::parse(&options.to_args()).unwrap(), options);
        assert!(Options::parse(&["phase=shuffle"]).is_err());
        let err =
            Options::parse(&["phase=map", "distributed=true"]).unwrap_err();
        assert!(err.to_string().starts_with("phase=map is the map phase"));
    }

    #[test]
    fn condition_and_hunts_round_trip_and_exclude_each_other() {
        let options = Options::parse(&[
            "hunts=all",
            "hunts_file= my.tsv ",
            "value=none",
        ])
        .unwrap();
        assert_eq!(options.hunts.as_deref(), Some("all"));
        assert_eq!(options.hunts_file.as_deref(), Some("my.tsv"));
        assert_eq!(Options::parse(&options.to_args()).unwrap(), options);
        let options =
            Options::parse(&["condition=ScriptBlockText=\"*a b*\""]).unwrap();
        assert_eq!(
            options.condition.as_deref(),
            Some("ScriptBlockText=\"*a b*\"")
        );
        assert_eq!(Options::parse(&options.to_args()).unwrap(), options);

        let err =
            |args: &[&str]| Options::parse(args).unwrap_err().to_string();
        assert!(err(&["pattern=*a*", "condition=x"])
            .starts_with("options pattern and condition cannot be combined"));
        assert!(err(&["hunts=all", "by=dest"])
            .starts_with("option by cannot be combined with hunts"));
        assert!(err(&["field=x", "hunts=all"])
            .starts_with("option field cannot be combined with hunts"));
        assert!(err(&["hunts=all", "pattern=*a*"])
            .starts_with("option pattern cannot be combined with hunts"));
        assert!(err(&["hunts_file=x.tsv"])
            .starts_with("option hunts_file needs hunts="));
        assert!(err(&["hunts=all", "hunts=all"]).contains("more than once"));
        assert!(err(&["hunts=all", "distributed=true"])
            .starts_with("option hunts cannot be combined with distributed"));
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
        for bad in [
            "by=",
            "by=a,,b",
            "by=a,a",
            "by=count",
            "by=h,firstTime",
            "by=lastTime",
            "field=",
            "pattern=",
            "value=",
        ] {
            assert!(Options::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
