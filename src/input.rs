//! Reading offline input files: a path or `-` for stdin, gzip undone when
//! the bytes start with gzip's magic number.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

/// Opens `path` (or stdin for `-`) as a buffered stream, decompressing
/// gzip transparently.
pub fn open(path: &str) -> Result<Box<dyn BufRead>> {
    let raw: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin())
    } else {
        let file = File::open(path)
            .map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
        Box::new(file)
    };
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = MultiGzDecoder::new(buffered);
        return Ok(Box::new(BufReader::with_capacity(1 << 16, decoder)));
    }
    Ok(Box::new(buffered))
}

/// Reads all of `path` (or stdin), decompressed.
pub fn read_all(path: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    Ok(bytes)
}
