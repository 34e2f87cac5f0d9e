//! Benchmark: the wildcard matcher's time grows linearly with the value,
//! whatever the pattern.
//!
//! For patterns that make a backtracking matcher explode, it times the
//! search's matcher (`Matcher`: the literal scan, then the full wildcard
//! check where needed) on values of 1, 4 and 16 MiB and prints the time per
//! byte; linear time means the same ns/byte at every size. Run with
//! `cargo bench --bench matcher` (release build; about a minute).

use std::hint::black_box;
use std::time::{Duration, Instant};

use scriptblockhunt::condition::Condition;
use scriptblockhunt::matcher::Matcher;

/// Value sizes, in MiB.
const SIZES: [usize; 3] = [1, 4, 16];

/// How long each measurement repeats, at least.
const BUDGET: Duration = Duration::from_millis(500);

/// One case: a pattern and how to build a value of `n` bytes for it.
struct Case {
    /// The wildcard.
    pattern: &'static str,
    /// What the value is, for the printout.
    value: &'static str,
    /// Builds the value.
    build: fn(usize) -> Vec<u8>,
}

/// The cases: the pattern and its harder open-ended variant, on
/// values that match and values that do not.
const CASES: &[Case] = &[
    Case {
        pattern: "*a*a*a*a*a*a*a*b",
        value: "a...a (no match)",
        build: |n| vec![b'a'; n],
    },
    Case {
        pattern: "*a*a*a*a*a*a*a*b",
        value: "a...ab (match)",
        build: |n| {
            let mut v = vec![b'a'; n - 1];
            v.push(b'b');
            v
        },
    },
    Case {
        pattern: "*a*a*a*a*a*a*a*b*",
        value: "a...a (no match)",
        build: |n| vec![b'a'; n],
    },
    Case {
        pattern: "*ab*ab*ab*ab*ab*ab*ac*",
        value: "abab...ab (no match)",
        build: |n| b"ab".iter().copied().cycle().take(n).collect(),
    },
    Case {
        pattern: "*Get-NetTcpconnection*",
        value: "x...x (no match)",
        build: |n| vec![b'x'; n],
    },
];

/// Mean seconds per event of deciding `matcher` on `value`, and whether
/// it matched.
fn time(matcher: &mut Matcher, value: &[u8]) -> (f64, bool) {
    let mut calls = 0u32;
    let mut decided = Vec::new();
    let start = Instant::now();
    while start.elapsed() < BUDGET || calls < 3 {
        let whole = 0..value.len();
        let values = std::slice::from_ref(&whole);
        matcher.decide(black_box(value), values, &mut decided);
        black_box(&decided);
        calls += 1;
    }
    let seconds = start.elapsed().as_secs_f64() / f64::from(calls);
    (seconds, !decided.is_empty())
}

fn main() {
    println!(
        "{:<26} {:<22} {:>6} {:>11} {:>8}",
        "pattern", "value", "MiB", "us/call", "ns/byte"
    );
    for case in CASES {
        let condition = Condition::any_of(&[case.pattern]);
        let mut matcher =
            Matcher::new(&[&condition]).expect("the pattern compiles");
        for mib in SIZES {
            let value = (case.build)(mib << 20);
            let (seconds, matched) = time(&mut matcher, &value);
            println!(
                "{:<26} {:<22} {:>6} {:>11.3} {:>8.4}   match={matched}",
                case.pattern,
                case.value,
                mib,
                seconds * 1e6,
                seconds * 1e9 / value.len() as f64
            );
        }
    }
}
