//! The `streaming_preop` of `distributed=true`: the search pipeline that
//! Splunk runs on every indexer ahead of the reporting command.
//!
//! Splunk takes the pipeline as SPL text and tokenises it itself, so every
//! option value has to survive that tokenisation unchanged: the map phase
//! must match and group exactly as the search head would. What Splunk does
//! with a quoted argument is only known from recordings (Splunk 6.3, the
//! Python SDK's `scpv2` recordings):
//!
//! * `total="total"` reached the map phase as `total=total`, and
//!   `text="Hello World!"` as `text=Hello World!`: quotes are removed and
//!   the spaces inside them kept;
//! * `pattern="\w+"` arrived as `pattern=\w+`: a backslash before an
//!   ordinary character stays.
//!
//! Not recorded, and assumed from SPL's documented escaping: inside quotes
//! `\"` stands for `"` and `\\` for `\`. [`quote`] therefore escapes every
//! `"`, and doubles a backslash only where Splunk would otherwise read it
//! as an escape: before a `"`, before another backslash, and at the end of
//! the value. Most values with backslashes (Windows paths, regular
//! expressions) go out as typed and do not depend on the assumption at
//! all. If a Splunk version tokenises differently, the partial rows carry a
//! fingerprint of the options the map phase parsed and the search head
//! refuses rows made with other options (see `partial`), so a difference
//! is an error, never wrong rows.
//!
//! [`tokenize`] is that model of Splunk's tokenisation. The offline
//! simulation uses it to start its map phases from the preop text exactly
//! as Splunk would, and the tests check it against the recordings.

use crate::options::{Options, Phase};

/// The command's name in `commands.conf`, used when Splunk does not say
/// which name the search used.
pub const COMMAND: &str = "scriptblockhunt";

/// The command name for the preop: `searchinfo.command` when Splunk sent a
/// plain name (lowercase letters, digits, `_`), else [`COMMAND`].
pub fn command_name(sent: Option<&str>) -> &str {
    match sent {
        Some(name)
            if !name.is_empty()
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
                }) =>
        {
            name
        }
        _ => COMMAND,
    }
}

/// The preop for `options`: `<command> phase=map` and the pattern, field,
/// by and value options, every value quoted. `distributed` itself is not
/// passed on: the map phase is never distributed again.
pub fn streaming_preop(command: &str, options: &Options) -> String {
    let map = Options {
        distributed: false,
        phase: Phase::Map,
        ..options.clone()
    };
    let mut text = format!("{command} phase=map");
    for arg in map.to_args() {
        let Some((name, value)) = arg.split_once('=') else {
            continue;
        };
        if name == "phase" {
            continue;
        }
        text.push(' ');
        text.push_str(name);
        text.push('=');
        text.push_str(&quote(value));
    }
    text
}

/// `value` in double quotes as SPL reads it back: every `"` escaped, and a
/// backslash doubled where it would otherwise start an escape (before `"`
/// or `\`, or last).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' if matches!(chars.peek(), None | Some('"' | '\\')) => {
                out.push_str("\\\\")
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits SPL command text into arguments the way Splunk fills
/// `searchinfo.args` (see the module notes): whitespace outside quotes
/// separates arguments, quotes are removed, `\"` and `\\` are unescaped,
/// any other backslash is kept. Returns an error for a quote that never
/// closes.
pub fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut started = false;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('"' | '\\')) => {
                current.push(chars.next().expect("peeked"));
                started = true;
            }
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    args.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            c => {
                current.push(c);
                started = true;
            }
        }
    }
    if quoted {
        return Err("a double quote in the preop never closes".to_string());
    }
    if started {
        args.push(current);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quotes_escape_only_where_splunk_would_unescape() {
        assert_eq!(quote("total"), "\"total\"");
        assert_eq!(quote("a \"b\""), "\"a \\\"b\\\"\"");
        assert_eq!(quote("C:\\Windows\\*"), "\"C:\\Windows\\*\"");
        assert_eq!(quote("\\w+"), "\"\\w+\"");
        assert_eq!(quote("end\\"), "\"end\\\\\"");
        assert_eq!(quote("two\\\\"), "\"two\\\\\\\\\"");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn tokenize_matches_the_splunk_6_3_recordings() {
        // sum.reduce's preop as the SDK sent it, and the map phase's
        // searchinfo.args as Splunk delivered them (order aside).
        let mut got =
            tokenize("sum phase=\"map\" total=\"total\" value1").unwrap();
        assert_eq!(got.remove(0), "sum");
        got.sort();
        assert_eq!(got, vec!["phase=map", "total=total", "value1"]);
        // countmatches: raw_args pattern="\w+" became args pattern=\w+.
        assert_eq!(tokenize("pattern=\"\\w+\"").unwrap(), ["pattern=\\w+"]);
        // pypygeneratetext: text="Hello World!" kept its space.
        assert_eq!(
            tokenize("count=1000 text=\"Hello World!\"").unwrap(),
            ["count=1000", "text=Hello World!"]
        );
        assert!(tokenize("x=\"open").is_err());
    }

    #[test]
    fn preop_carries_every_option_quoted() {
        let options = Options::parse(&[
            "pattern=*a \"b\"*",
            "pattern=C:\\x\\",
            "field=Script Block",
            "by=dest, Path",
            "value=n/a",
            "distributed=true",
        ])
        .unwrap();
        let preop = streaming_preop(COMMAND, &options);
        assert_eq!(
            preop,
            "scriptblockhunt phase=map pattern=\"*a \\\"b\\\"*\" \
             pattern=\"C:\\x\\\\\" field=\"Script Block\" \
             by=\"dest,Path\" value=\"n/a\""
        );
        let args = tokenize(&preop).unwrap();
        assert_eq!(args[0], "scriptblockhunt");
        let map = Options::parse(&args[1..]).unwrap();
        assert_eq!(map.phase, Phase::Map);
        assert!(!map.distributed);
        assert_eq!(map.patterns, options.patterns);
        assert_eq!(
            (&map.field, &map.by, &map.value),
            (&options.field, &options.by, &options.value)
        );
    }

    #[test]
    fn command_name_falls_back_for_odd_names() {
        assert_eq!(command_name(Some("sbh2")), "sbh2");
        assert_eq!(command_name(None), COMMAND);
        assert_eq!(command_name(Some("")), COMMAND);
        assert_eq!(command_name(Some("a b")), COMMAND);
        assert_eq!(command_name(Some("X|y")), COMMAND);
    }

    /// Characters that stress quoting: quotes, backslashes, whitespace,
    /// SPL's separators, `=`, commas and non-ASCII text.
    fn tricky() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just(' '),
                Just('\t'),
                Just('\n'),
                Just('='),
                Just(','),
                Just('|'),
                Just('['),
                Just('a'),
                Just('Z'),
                Just('ж'),
                Just('日'),
                Just('*'),
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_value_survives_quote_then_tokenize(value in tricky()) {
            let text = format!("name={}", quote(&value));
            prop_assert_eq!(tokenize(&text).unwrap(), vec![
                format!("name={value}")
            ]);
        }

        #[test]
        fn preop_round_trips_through_the_tokenizer(
            patterns in proptest::collection::vec(tricky(), 1..3),
            value in tricky(),
        ) {
            let mut args: Vec<String> = patterns
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| format!("pattern={p}"))
                .collect();
            args.push(format!("value={value}"));
            args.push("distributed=yes".to_string());
            let options = Options::parse(&args).unwrap();
            let preop = streaming_preop(COMMAND, &options);
            let tokens = tokenize(&preop).unwrap();
            let map = Options::parse(&tokens[1..]).unwrap();
            prop_assert_eq!(&map.patterns, &options.patterns);
            prop_assert_eq!(&map.value, &options.value);
            prop_assert_eq!(map.phase, Phase::Map);
        }
    }
}
