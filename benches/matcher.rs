//! Benchmark: the wildcard matcher's time grows linearly with the value,
//! whatever the pattern.
//!
//! For patterns that make a backtracking matcher explode, it times
//! `Pattern::is_match` on values of 1, 4 and 16 MiB and prints the time
//! per byte; linear time means the same ns/byte at every size. Run with
//! `cargo bench --bench matcher` (release build; about a minute).

use std::hint::black_box;
use std::time::{Duration, Instant};

use scriptblockhunt::pattern::Pattern;

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

/// Mean seconds per call of `is_match` on `value`.
fn time(pattern: &Pattern, value: &[u8]) -> (f64, bool) {
    let mut calls = 0u32;
    let mut result = false;
    let start = Instant::now();
    while start.elapsed() < BUDGET || calls < 3 {
        result = black_box(pattern.is_match(black_box(value)));
        calls += 1;
    }
    (start.elapsed().as_secs_f64() / f64::from(calls), result)
}

fn main() {
    println!(
        "{:<26} {:<22} {:>6} {:>11} {:>8}",
        "pattern", "value", "MiB", "us/call", "ns/byte"
    );
    for case in CASES {
        let pattern = Pattern::new(case.pattern);
        for mib in SIZES {
            let value = (case.build)(mib << 20);
            let (seconds, matched) = time(&pattern, &value);
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
