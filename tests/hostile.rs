//! Hostile input, row by row, through the real binary in protocol mode.
//!
//! Each row of `ROWS` is one input Splunk (or an attacker writing script
//! block text, or a broken pipe) could put on the command's stdin, with
//! what the command must do: exit status, the reply, and the exact message
//! the user sees in Splunk. The table in docs/hardening.md is rendered from
//! these rows; `table_in_docs_matches_the_rows` fails when the two differ,
//! and `SCRIPTBLOCKHUNT_BLESS=1 cargo test --test hostile` rewrites it.
//!
//! Every row also runs with the log at `trace`, a session key and a
//! splunkd URI with a password in its getinfo chunk, and an address space
//! of 256 MiB: no secret may reach stdout or stderr, and no declared
//! length may turn into an allocation.

#![cfg(unix)]

mod common;

use std::os::unix::process::CommandExt;

use common::{assert_no_secret, chunk, execute, getinfo, Run};

/// What the command must do with a row's input.
enum Outcome {
    /// Exit 1; the last reply is the fatal error reply carrying exactly
    /// this text (as `error` and as an ERROR inspector message).
    Error(&'static str),
    /// Exit 0; the reply to the last chunk is `finished:true` with exactly
    /// this CSV body.
    Rows(fn() -> Vec<u8>),
    /// Exit 0 and no reply at all.
    Nothing,
}

/// One hostile input.
struct Row {
    /// Short name, used in test failures.
    id: &'static str,
    /// The input, as the docs table describes it.
    input: &'static str,
    /// Builds the bytes written to stdin.
    stream: fn() -> Vec<u8>,
    /// What must happen.
    outcome: Outcome,
}

/// The options most rows use: match `t`, group by `h`.
const ARGS: &[&str] = &["field=t", "by=h"];

/// A stream: getinfo with `ARGS`, then one final execute chunk.
fn one_chunk(body: &[u8]) -> Vec<u8> {
    with_args(ARGS, body)
}

/// A stream: getinfo with `args`, then one final execute chunk.
fn with_args(args: &[&str], body: &[u8]) -> Vec<u8> {
    let mut stream = getinfo(args);
    stream.extend(execute(true, body));
    stream
}

/// Concatenates byte pieces.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Ten MiB of `a`.
fn ten_mib_of_a() -> Vec<u8> {
    vec![b'a'; 10 << 20]
}

/// An `__mv_` cell and its plain twin for `values`.
fn multivalue(values: &[String]) -> (Vec<u8>, Vec<u8>) {
    let plain = format!("\"{}\"", values.join("\n")).into_bytes();
    let encoded: Vec<String> =
        values.iter().map(|v| format!("${v}$")).collect();
    (plain, encoded.join(";").into_bytes())
}

/// The hostile inputs.
const ROWS: &[Row] = &[
    Row {
        id: "truncated-header",
        input: "a header cut short: `chunked 1.0,2` and end of stream",
        stream: || b"chunked 1.0,2".to_vec(),
        outcome: Outcome::Error(
            "chunk 1: the stream ended inside the header line, after 13 \
             bytes",
        ),
    },
    Row {
        id: "non-numeric-length",
        input: "non-numeric length: `chunked 1.0,x,0`",
        stream: || b"chunked 1.0,x,0\n".to_vec(),
        outcome: Outcome::Error(
            "chunk 1 at byte 0: expected a header 'chunked 1.0,<metadata \
             length>,<body length>', found \"chunked 1.0,x,0\\n\"",
        ),
    },
    Row {
        id: "negative-length",
        input: "negative length: `chunked 1.0,-5,0`",
        stream: || b"chunked 1.0,-5,0\n".to_vec(),
        outcome: Outcome::Error(
            "chunk 1 at byte 0: expected a header 'chunked 1.0,<metadata \
             length>,<body length>', found \"chunked 1.0,-5,0\\n\"",
        ),
    },
    Row {
        id: "absurd-length",
        input: "absurd length: body of 18446744073709551615 bytes",
        stream: || b"chunked 1.0,2,18446744073709551615\n{}".to_vec(),
        outcome: Outcome::Error(
            "chunk 1: declares 18446744073709551615 bytes, more than the \
             limit of 1073741824 bytes (option max_chunk_bytes)",
        ),
    },
    Row {
        id: "length-overflows",
        input: "a length that does not fit in 64 bits",
        stream: || b"chunked 1.0,99999999999999999999999,0\n".to_vec(),
        outcome: Outcome::Error(
            "chunk 1 at byte 0: expected a header 'chunked 1.0,<metadata \
             length>,<body length>', found \"chunked \
             1.0,99999999999999999999999,0\\n\"",
        ),
    },
    Row {
        id: "endless-header",
        input: "a header line that never ends: 10 MiB without a newline",
        stream: || vec![b'9'; 10 << 20],
        outcome: Outcome::Error(
            "chunk 1 at byte 0: expected a header 'chunked 1.0,<metadata \
             length>,<body length>', found \"9999999999999999999999999999999\
             999999999...\"",
        ),
    },
    Row {
        id: "declared-but-not-sent",
        input: "an execute header declaring a 1,000,000,000-byte body, then \
                4 bytes and end of stream (run in 256 MiB of address space)",
        stream: || {
            cat(&[
                &getinfo(ARGS),
                b"chunked 1.0,37,1000000000\n",
                br#"{"action":"execute","finished":false}"#,
                b"t,h\n",
            ])
        },
        outcome: Outcome::Error(
            "chunk 2: the stream ended inside the body (4 of 1000000000 \
             bytes arrived)",
        ),
    },
    Row {
        id: "past-max_chunk_bytes",
        input: "`max_chunk_bytes=100`, then an execute chunk of 36 + 100 \
                bytes",
        stream: || {
            with_args(&["field=t", "by=h", "max_chunk_bytes=100"], &{
                let mut body = b"t,h,_time\n".to_vec();
                body.resize(100, b'x');
                body
            })
        },
        outcome: Outcome::Error(
            "chunk 2: declares 136 bytes, more than the limit of 100 bytes \
             (option max_chunk_bytes)",
        ),
    },
    Row {
        id: "metadata-not-json",
        input: "metadata that is not JSON: `{nope`",
        stream: || chunk(b"{nope", b""),
        outcome: Outcome::Error(
            "chunk 1: bad metadata: not valid JSON (key must be a string at \
             line 1 column 2)",
        ),
    },
    Row {
        id: "metadata-not-object",
        input: "metadata that is JSON but not an object: `[\"getinfo\"]`",
        stream: || chunk(br#"["getinfo"]"#, b""),
        outcome: Outcome::Error("chunk 1: bad metadata: not a JSON object"),
    },
    Row {
        id: "deep-metadata",
        input: "metadata nested 100,000 arrays deep",
        stream: || {
            let mut metadata = vec![b'['; 100_000];
            metadata.extend(vec![b']'; 100_000]);
            chunk(&metadata, b"")
        },
        outcome: Outcome::Error(
            "chunk 1: bad metadata: not valid JSON (recursion limit exceeded \
             at line 1 column 128)",
        ),
    },
    Row {
        id: "nul-in-metadata",
        input: "a NUL byte inside the metadata's JSON",
        stream: || chunk(b"{\"action\":\"get\0info\"}", b""),
        outcome: Outcome::Error(
            "chunk 1: bad metadata: not valid JSON (control character \
             (\\u0000-\\u001F) found while parsing a string at line 1 \
             column 15)",
        ),
    },
    Row {
        id: "invalid-utf8-in-args",
        input: "invalid UTF-8 in an option of the getinfo chunk",
        stream: || {
            // Written out, so that the byte's column does not depend on how
            // a JSON library orders keys.
            let metadata = format!(
                r#"{{"action":"getinfo","searchinfo":{{"args":["by=h@"],"session_key":"{}","splunkd_uri":"{}"}}}}"#,
                common::SESSION_KEY,
                common::SPLUNKD_URI
            );
            let mut metadata = metadata.into_bytes();
            let at = metadata.iter().position(|&b| b == b'@').unwrap();
            metadata[at] = 0xff;
            chunk(&metadata, b"")
        },
        outcome: Outcome::Error(
            "chunk 1: bad metadata: not valid JSON (invalid unicode code \
             point at line 1 column 48)",
        ),
    },
    Row {
        id: "misframed-getinfo",
        input: "a getinfo whose declared metadata length ends after \
                `{\"action\":\"getinfo\"}`, so that the rest of its JSON, \
                session key included, is read as the next header line",
        stream: || {
            let rest = format!(
                r#","searchinfo":{{"args":[],"session_key":"{}","splunkd_uri":"{}"}}}}"#,
                common::SESSION_KEY,
                common::SPLUNKD_URI
            );
            cat(&[
                b"chunked 1.0,20,0\n",
                br#"{"action":"getinfo"}"#,
                rest.as_bytes(),
                b"\n",
            ])
        },
        outcome: Outcome::Error(
            "chunk 2 at byte 37: expected a header 'chunked 1.0,<metadata \
             length>,<body length>', found 128 bytes that do not start with \
             'chunked' (not shown: they may be event data)",
        ),
    },
    Row {
        id: "empty-stream",
        input: "getinfo missing: stdin closed before any byte",
        stream: Vec::new,
        outcome: Outcome::Nothing,
    },
    Row {
        id: "no-action",
        input: "getinfo missing: a first chunk with no `action`",
        stream: || chunk(br#"{"searchinfo":{"args":[]}}"#, b""),
        outcome: Outcome::Error("chunk 1: bad metadata: no 'action' key"),
    },
    Row {
        id: "execute-before-getinfo",
        input: "execute before getinfo",
        stream: || execute(true, b"t,h\n"),
        outcome: Outcome::Error("chunk 1: an execute request before getinfo"),
    },
    Row {
        id: "getinfo-repeated",
        input: "getinfo repeated",
        stream: || cat(&[&getinfo(ARGS), &getinfo(ARGS)]),
        outcome: Outcome::Error(
            "chunk 2: a second getinfo request; expected execute",
        ),
    },
    Row {
        id: "body-short-at-end",
        input: "body shorter than declared (16 of 100 bytes), then end of \
                stream",
        stream: || {
            cat(&[
                &getinfo(ARGS),
                b"chunked 1.0,37,100\n",
                br#"{"action":"execute","finished":false}"#,
                b"t,h,_time\nx,y,1\n",
            ])
        },
        outcome: Outcome::Error(
            "chunk 2: the stream ended inside the body (16 of 100 bytes \
             arrived)",
        ),
    },
    Row {
        id: "body-short-then-next-chunk",
        input: "body 25 bytes shorter than declared, then the next chunk \
                (its first 25 bytes are taken as body: the header line as \
                record 2, `{\"acti` as record 3)",
        stream: || {
            let body = b"t,h,_time\nGet-NetTcpConnection,a,1\n";
            cat(&[
                &getinfo(ARGS),
                format!("chunked 1.0,37,{}\n", body.len() + 25).as_bytes(),
                br#"{"action":"execute","finished":false}"#,
                body,
                &execute(true, b"t,h,_time\n"),
            ])
        },
        outcome: Outcome::Error(
            "chunk 2: CSV record 3: has 1 fields, the header has 3",
        ),
    },
    Row {
        id: "eof-inside-metadata",
        input: "end of stream inside the metadata",
        stream: || {
            cat(&[
                &getinfo(ARGS),
                b"chunked 1.0,37,0\n",
                br#"{"action":"exec"#,
            ])
        },
        outcome: Outcome::Error(
            "chunk 2: the stream ended inside the metadata (15 of 37 bytes \
             arrived)",
        ),
    },
    Row {
        id: "ragged-rows",
        input: "CSV with a ragged row (2 fields under a 3-column header)",
        stream: || {
            one_chunk(
                b"t,h,_time\nGet-NetTcpConnection,a,1\nGet-NetTcpConnection,b\n",
            )
        },
        outcome: Outcome::Error(
            "chunk 2: CSV record 2: has 2 fields, the header has 3",
        ),
    },
    Row {
        id: "unterminated-quote",
        input: "CSV with a quote that never closes",
        stream: || one_chunk(b"t,h,_time\n\"Get-NetTcpConnection,a,1\n"),
        outcome: Outcome::Error(
            "chunk 2: CSV record 1: field 1 opens a quote at byte 10 of the \
             body that never closes",
        ),
    },
    Row {
        id: "bytes-after-quote",
        input: "CSV with bytes after a closing quote: `\"x\"y`",
        stream: || one_chunk(b"t,h,_time\n\"Get-NetTcpConnection\"x,a,1\n"),
        outcome: Outcome::Error(
            "chunk 2: CSV record 1: field 1 has bytes after its closing quote",
        ),
    },
    Row {
        id: "nul-in-values",
        input: "NUL bytes inside a matched value and a BY value",
        stream: || one_chunk(b"t,h,_time\nGet-NetTcpConnection\0,a\0b,5\n"),
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\na\0b,1,5,5\n".to_vec()
        }),
    },
    Row {
        id: "invalid-utf8-values",
        input: "invalid UTF-8 in a matched value and a BY value",
        stream: || {
            one_chunk(b"t,h,_time\nGet-NetTcpConnection \xff\xfe,\xc3(,7\n")
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\n\xc3(,1,7,7\n".to_vec()
        }),
    },
    Row {
        id: "invalid-utf8-column-name",
        input: "invalid UTF-8 in a column name the command does not need",
        stream: || {
            one_chunk(b"t,\xff\xfe,h,_time\nGet-NetTcpConnection,zz,a,3\n")
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\na,1,3,3\n".to_vec()
        }),
    },
    Row {
        id: "malformed-mv",
        input: "a malformed `__mv_` cell: `$a$;b`",
        stream: || {
            one_chunk(
                b"t,h,_time,__mv_h\nGet-NetTcpConnection,\"a\nb\",1,$a$;b\n",
            )
        },
        outcome: Outcome::Error(
            "chunk 2: CSV record 1: field h: the __mv_ cell is not in \
             $value$;$value$ form (byte 4)",
        ),
    },
    Row {
        id: "repeated-needed-column",
        input: "a header row that repeats a column the command needs (`t`)",
        stream: || one_chunk(b"t,h,t,_time\nGet-NetTcpConnection,a,x,1\n"),
        outcome: Outcome::Error(
            "chunk 2: CSV header row: column t appears more than once",
        ),
    },
    Row {
        id: "repeated-other-column",
        input: "a header row that repeats a column the command does not \
                need (`x`)",
        stream: || one_chunk(b"x,t,x,h,_time\n1,Get-NetTcpConnection,2,a,4\n"),
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\na,1,4,4\n".to_vec()
        }),
    },
    Row {
        id: "ten-mib-field",
        input: "a 10 MiB field, matched and grouped by (it comes back \
                whole)",
        stream: || {
            let mut body = b"t,h,_time\n".to_vec();
            body.extend(big_field());
            body.extend(b",a,9\n");
            with_args(&["field=t", "by=t,h"], &body)
        },
        outcome: Outcome::Rows(|| {
            let mut body = b"t,h,count,firstTime,lastTime\n".to_vec();
            body.extend(big_field());
            body.extend(b",a,1,9,9\n");
            body
        }),
    },
    Row {
        id: "million-columns",
        input: "a million columns before the three the command needs",
        stream: || {
            let mut header: Vec<String> =
                (0..1_000_000).map(|i| format!("c{i}")).collect();
            header.extend(["t", "h", "_time"].map(String::from));
            let mut body = header.join(",").into_bytes();
            body.push(b'\n');
            body.extend(vec![b','; 1_000_000]);
            body.extend(b"Get-NetTcpConnection,a,2\n");
            one_chunk(&body)
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\na,1,2,2\n".to_vec()
        }),
    },
    Row {
        id: "five-million-empty-columns",
        input: "a header of 5,000,000 empty column names before the three \
                the command needs, and a record as wide (10 MB, run in 256 \
                MiB of address space)",
        stream: || {
            let mut body = vec![b','; 5_000_000];
            body.extend(b"t,h,_time\n");
            body.extend(vec![b','; 5_000_000]);
            body.extend(b"Get-NetTcpConnection,a,2\n");
            one_chunk(&body)
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\na,1,2,2\n".to_vec()
        }),
    },
    Row {
        id: "lone-cr",
        input: "records ended by a lone CR",
        stream: || {
            one_chunk(
                b"t,h,_time\rGet-NetTcpConnection,a,1\rGet-NetTcpConnection,b,2\r",
            )
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\na,1,1,1\nb,1,2,2\n".to_vec()
        }),
    },
    Row {
        id: "backtracking-pattern",
        input: "`pattern=*a*a*a*a*a*a*a*b` on 10 MiB of `a` (no match) and \
                on 10 MiB of `a` then `b` (match)",
        stream: || {
            let mut body = b"t,h,_time\n".to_vec();
            body.extend(ten_mib_of_a());
            body.extend(b",x,1\n");
            body.extend(ten_mib_of_a());
            body.extend(b"b,y,2\n");
            with_args(&["pattern=*a*a*a*a*a*a*a*b", "field=t", "by=h"], &body)
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\ny,1,2,2\n".to_vec()
        }),
    },
    Row {
        id: "backtracking-pattern-open-end",
        input: "`pattern=*a*a*a*a*a*a*a*b*` on 10 MiB of `a` (no match: the \
                whole value is searched for `b`) and on `a`s with one `b` in \
                the middle (match)",
        stream: || {
            let mut body = b"t,h,_time\n".to_vec();
            body.extend(ten_mib_of_a());
            body.extend(b",x,1\n");
            let mut middle = ten_mib_of_a();
            middle[5 << 20] = b'b';
            body.extend(middle);
            body.extend(b",y,2\n");
            with_args(&["pattern=*a*a*a*a*a*a*a*b*", "field=t", "by=h"], &body)
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\ny,1,2,2\n".to_vec()
        }),
    },
    Row {
        id: "option-values",
        input: "option values with quotes, spaces, `=` and unicode: \
                `pattern=*say \"hi\" = ж*`, `by=h,Путь`, `value= n/a = ж `",
        stream: || {
            with_args(
                &[
                    "pattern=*say \"hi\" = ж*",
                    "field=t",
                    "by=h,Путь",
                    "value= n/a = ж ",
                ],
                "t,h,Путь,_time\n\
                 \"x say \"\"hi\"\" = ж y\",a,Дом,1\n\
                 \"SAY \"\"HI\"\" = ж\",b,,2\n\
                 \"say hi = ж\",c,Дом,3\n"
                    .as_bytes(),
            )
        },
        outcome: Outcome::Rows(|| {
            "h,Путь,count,firstTime,lastTime\na,Дом,1,1,1\n\
             b,\" n/a = ж \",1,2,2\n"
                .as_bytes()
                .to_vec()
        }),
    },
    Row {
        id: "bad-limit-value",
        input: "`max_groups=lots`",
        stream: || with_args(&["max_groups=lots"], b""),
        outcome: Outcome::Error(
            "option max_groups needs a whole number of groups, at least 1, \
             got 'lots'",
        ),
    },
    Row {
        id: "past-max_groups",
        input: "`max_groups=2` and events in 3 groups",
        stream: || {
            with_args(
                &["field=t", "by=h", "max_groups=2"],
                b"t,h,_time\nGet-NetTcpConnection,a,1\n\
                  Get-NetTcpConnection,b,1\nGet-NetTcpConnection,a,1\n\
                  Get-NetTcpConnection,c,1\n",
            )
        },
        outcome: Outcome::Error(
            "chunk 2: CSV record 4: stats would hold more than 2 groups, the \
             limit set by option max_groups; narrow the search or the BY \
             fields, or raise max_groups",
        ),
    },
    Row {
        id: "cross-product-bomb",
        input: "one event whose two multivalue BY fields hold 2,000 distinct \
                values each (4,000,000 combinations)",
        stream: || {
            let values: Vec<String> =
                (0..2000).map(|i| format!("v{i}")).collect();
            let (plain, mv) = multivalue(&values);
            let body = cat(&[
                b"t,h,u,_time,__mv_t,__mv_h,__mv_u,__mv__time\n",
                b"Get-NetTcpConnection,",
                &plain,
                b",",
                &plain,
                b",1,,",
                &mv,
                b",",
                &mv,
                b",\n",
            ]);
            with_args(&["field=t", "by=h,u"], &body)
        },
        outcome: Outcome::Error(
            "chunk 2: CSV record 1: stats would hold more than 1000000 \
             groups, the limit set by option max_groups; narrow the search \
             or the BY fields, or raise max_groups",
        ),
    },
    Row {
        id: "repeated-value-bomb",
        input: "one event whose two multivalue BY fields repeat one value \
                100,000 times each (10^10 combinations, one group)",
        stream: || {
            let (h_plain, h_mv) = multivalue(&vec!["x".to_string(); 100_000]);
            let (u_plain, u_mv) = multivalue(&vec!["y".to_string(); 100_000]);
            let body = cat(&[
                b"t,h,u,_time,__mv_h,__mv_u\nGet-NetTcpConnection,",
                &h_plain,
                b",",
                &u_plain,
                b",1,",
                &h_mv,
                b",",
                &u_mv,
                b"\n",
            ]);
            with_args(&["field=t", "by=h,u"], &body)
        },
        outcome: Outcome::Rows(|| {
            b"h,u,count,firstTime,lastTime\nx,y,10000000000,1,1\n".to_vec()
        }),
    },
    Row {
        id: "distributed-events-not-partials",
        input: "`distributed=true` (the reduce phase) fed events instead of \
                the map phase's partial rows",
        stream: || {
            with_args(
                &["field=t", "by=h", "distributed=true"],
                b"t,h,_time\nGet-NetTcpConnection,a,1\n",
            )
        },
        outcome: Outcome::Error(
            "chunk 2: CSV record 1: no scriptblockhunt_options cell: this is \
             not a partial row of the map phase. With distributed=true the \
             command reads only what its streaming_preop sends",
        ),
    },
    Row {
        id: "reduce-past-max_groups",
        input: "`distributed=true max_groups=1` and partial rows of 2 groups",
        stream: || {
            let args = ["field=t", "by=h", "distributed=true", "max_groups=1"];
            let options =
                scriptblockhunt::options::Options::parse(&args).unwrap();
            let check = scriptblockhunt::partial::fingerprint(&options);
            let body = format!(
                "scriptblockhunt_by1,scriptblockhunt_count,\
                 scriptblockhunt_options\na,1,{check}\nb,1,{check}\n"
            );
            with_args(&args, body.as_bytes())
        },
        outcome: Outcome::Error(
            "chunk 2: CSV record 2: stats would hold more than 1 groups, the \
             limit set by option max_groups; narrow the search or the BY \
             fields, or raise max_groups",
        ),
    },
    Row {
        id: "blank-lines-between-chunks",
        input: "blank lines between chunks (old SDKs wrote one)",
        stream: || {
            cat(&[
                &getinfo(ARGS),
                b"\n\r\n",
                &execute(true, b"t,h,_time\nGet-NetTcpConnection,a,1\n"),
            ])
        },
        outcome: Outcome::Rows(|| {
            b"h,count,firstTime,lastTime\na,1,1,1\n".to_vec()
        }),
    },
];

/// A 10 MiB value with the default pattern's text in the middle.
fn big_field() -> Vec<u8> {
    let mut field = vec![b'x'; 5 << 20];
    field.extend(b"Get-NetTcpConnection");
    field.resize(10 << 20, b'y');
    field
}

/// Runs a row's stream through the binary in 256 MiB of address space.
fn run_row(row: &Row) -> Run {
    let mut command = common::command(&[], &[]);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256 << 20,
                rlim_max: 256 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    common::run(command, &(row.stream)())
}

/// Checks one row; returns a description of the first mismatch.
fn check(row: &Row) -> Result<(), String> {
    let run = run_row(row);
    let mut output = run.stdout.clone();
    output.extend(&run.stderr);
    assert_no_secret(
        &output,
        &[
            common::SESSION_KEY,
            common::SPLUNKD_URI,
            "SECRET-uri-password",
        ],
        row.id,
    );
    let replies = run.replies();
    let stderr = run.stderr_text();
    let code = run.code();
    match &row.outcome {
        Outcome::Error(text) => {
            let expected = serde_json::json!({
                "error": text,
                "finished": true,
                "inspector": {"messages": [["ERROR", text]]},
            });
            let last = replies.last().map(|(m, _)| m.clone());
            if code != 1 || last.as_ref() != Some(&expected) {
                return Err(format!(
                    "exit {code}, last reply {last:?}; stderr:\n{stderr}"
                ));
            }
            let errors =
                replies.iter().filter(|(m, _)| m["error"].is_string());
            if errors.count() != 1 {
                return Err("more than one error reply".to_string());
            }
            if !stderr.contains(&format!("ERROR {text}")) {
                return Err(format!("no ERROR log line; stderr:\n{stderr}"));
            }
        }
        Outcome::Rows(body) => {
            let last = replies.last();
            let ok = code == 0
                && last.is_some_and(|(m, b)| {
                    m == &serde_json::json!({"finished": true}) && *b == body()
                });
            if !ok {
                let shown = last.map(|(m, b)| {
                    (
                        m.clone(),
                        String::from_utf8_lossy(&b[..b.len().min(300)]),
                    )
                });
                return Err(format!(
                    "exit {code}, last reply {shown:?}; stderr:\n{stderr}"
                ));
            }
        }
        Outcome::Nothing => {
            if code != 0 || !replies.is_empty() {
                return Err(format!("exit {code}, {} replies", replies.len()));
            }
        }
    }
    Ok(())
}

/// Generates one test per row, so that each row passes or fails by name.
macro_rules! row_tests {
    ($($name:ident => $id:literal,)*) => {
        $(
            #[test]
            fn $name() {
                let row = ROWS.iter().find(|r| r.id == $id).unwrap();
                if let Err(e) = check(row) {
                    panic!("row {}: {e}", row.id);
                }
            }
        )*

        /// Every row has its test, and no test names a missing row.
        #[test]
        fn every_row_has_a_test() {
            let tested = [$($id),*];
            for row in ROWS {
                assert!(tested.contains(&row.id), "row {} untested", row.id);
            }
            assert_eq!(tested.len(), ROWS.len());
        }
    };
}

row_tests! {
    truncated_header => "truncated-header",
    non_numeric_length => "non-numeric-length",
    negative_length => "negative-length",
    absurd_length => "absurd-length",
    length_overflows => "length-overflows",
    endless_header => "endless-header",
    declared_but_not_sent => "declared-but-not-sent",
    past_max_chunk_bytes => "past-max_chunk_bytes",
    metadata_not_json => "metadata-not-json",
    metadata_not_object => "metadata-not-object",
    deep_metadata => "deep-metadata",
    nul_in_metadata => "nul-in-metadata",
    invalid_utf8_in_args => "invalid-utf8-in-args",
    misframed_getinfo => "misframed-getinfo",
    empty_stream => "empty-stream",
    no_action => "no-action",
    execute_before_getinfo => "execute-before-getinfo",
    getinfo_repeated => "getinfo-repeated",
    body_short_at_end => "body-short-at-end",
    body_short_then_next_chunk => "body-short-then-next-chunk",
    eof_inside_metadata => "eof-inside-metadata",
    ragged_rows => "ragged-rows",
    unterminated_quote => "unterminated-quote",
    bytes_after_quote => "bytes-after-quote",
    nul_in_values => "nul-in-values",
    invalid_utf8_values => "invalid-utf8-values",
    invalid_utf8_column_name => "invalid-utf8-column-name",
    malformed_mv => "malformed-mv",
    repeated_needed_column => "repeated-needed-column",
    repeated_other_column => "repeated-other-column",
    ten_mib_field => "ten-mib-field",
    million_columns => "million-columns",
    five_million_empty_columns => "five-million-empty-columns",
    lone_cr => "lone-cr",
    backtracking_pattern => "backtracking-pattern",
    backtracking_pattern_open_end => "backtracking-pattern-open-end",
    option_values => "option-values",
    bad_limit_value => "bad-limit-value",
    past_max_groups => "past-max_groups",
    cross_product_bomb => "cross-product-bomb",
    repeated_value_bomb => "repeated-value-bomb",
    distributed_events_not_partials => "distributed-events-not-partials",
    reduce_past_max_groups => "reduce-past-max_groups",
    blank_lines_between_chunks => "blank-lines-between-chunks",
}

/// The markers around the generated table in docs/hardening.md.
const BEGIN: &str =
    "<!-- hostile-table:begin (generated by tests/hostile.rs) -->";
/// See `BEGIN`.
const END: &str = "<!-- hostile-table:end -->";

/// The number of CSV records (header not counted) in a body.
fn records(body: &[u8]) -> usize {
    let mut quoted = false;
    let mut lines = 0usize;
    for &b in body {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => lines += 1,
            _ => {}
        }
    }
    lines.saturating_sub(1)
}

/// A markdown code span holding `text`.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|"))
}

/// The hostile-input table, in markdown.
fn table() -> String {
    let mut out = String::from(
        "| # | row (test) | input | reply | exit | message the user sees \
         |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for (i, row) in ROWS.iter().enumerate() {
        let (reply, exit, message) = match &row.outcome {
            Outcome::Error(text) => ("error reply".to_string(), 1, code(text)),
            Outcome::Rows(body) => {
                let n = records(&body());
                let rows = if n == 1 { "row" } else { "rows" };
                (format!("{n} result {rows}"), 0, "none".to_string())
            }
            Outcome::Nothing => {
                ("none (nothing was asked)".to_string(), 0, "none".into())
            }
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {reply} | {exit} | {message} |\n",
            i + 1,
            row.id,
            row.input.replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn table_in_docs_matches_the_rows() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/hardening.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    let begin = docs.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = docs.find(END).expect("end marker");
    let generated = format!("\n{}", table());
    if docs[begin..end] == generated {
        return;
    }
    if std::env::var_os("SCRIPTBLOCKHUNT_BLESS").is_some() {
        let updated =
            format!("{}{}{}", &docs[..begin], generated, &docs[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "docs/hardening.md's hostile-input table differs from tests/\
         hostile.rs; rerun with SCRIPTBLOCKHUNT_BLESS=1. Expected:\n{}",
        generated
    );
}
