//! The plain-scan floor of the benchmark: reads stdin in 1 MiB blocks and
//! looks at every byte once with `memchr` (searching for a NUL byte, which
//! a CSV body never holds, so each block is scanned to its end). Prints
//! the bytes read and the NUL bytes found.
//!
//! `cargo run --release --example scan < STREAM`

use std::io::Read;

/// Reads stdin to its end, scanning each block with `memchr`.
fn main() -> std::io::Result<()> {
    let mut input = std::io::stdin().lock();
    let mut block = vec![0u8; 1 << 20];
    let (mut bytes, mut found) = (0u64, 0u64);
    loop {
        let n = match input.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        bytes += n as u64;
        let mut rest = &block[..n];
        while let Some(i) = memchr::memchr(0, rest) {
            found += 1;
            rest = &rest[i + 1..];
        }
    }
    println!("{bytes} bytes, {found} NUL bytes");
    Ok(())
}
