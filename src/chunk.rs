//! Chunk framing of Splunk's custom search command protocol, version 2.
//!
//! A chunk is an ASCII header line `chunked 1.0,<m>,<b>\n` followed by
//! exactly `m` bytes of JSON metadata and `b` bytes of body. Both lengths
//! count bytes, not characters, and nothing separates one chunk from the
//! next (protocol notes §1).
//!
//! Traps for the next reader:
//!
//! * `read` may return fewer bytes than asked; every part is read in a loop
//!   until it is complete or the stream ends.
//! * The metadata has no terminator and the body holds raw newlines, so no
//!   line-oriented reading happens after the header.
//! * Lengths come from the other side of a pipe. They are checked against a
//!   limit (option `max_chunk_bytes`) before anything else, and even then
//!   no buffer is sized from them: buffers grow with the bytes that really
//!   arrive.

use std::io::{self, BufRead, Write};

use crate::error::{header_preview, Error, ErrorKind, Result};

/// The longest header line accepted, in bytes. Real headers are about 25
/// bytes; anything longer is garbage and is reported as such.
const MAX_HEADER_BYTES: usize = 128;

/// Default limit on one chunk's metadata plus body: 1 GiB (option
/// `max_chunk_bytes`). Splunk's largest observed chunk is 16 MB (50,000
/// rows of 24 fields), so this only stops absurd lengths.
pub const DEFAULT_MAX_CHUNK_BYTES: u64 = 1 << 30;

/// The first allocation for a chunk part, when the reused buffer is
/// smaller: 64 KiB. Larger parts grow by doubling as their bytes arrive.
const FIRST_RESERVE: usize = 1 << 16;

/// One chunk as read from the stream. The body borrows the reader's buffer,
/// which is reused for the next chunk.
#[derive(Debug)]
pub struct Chunk<'a> {
    /// 1-based position of the chunk in the stream.
    pub number: u64,
    /// The metadata bytes (a JSON object when well formed).
    pub metadata: &'a [u8],
    /// The body bytes (CSV for execute chunks).
    pub body: &'a [u8],
}

/// A chunk's header and metadata, its body still in the stream.
#[derive(Debug)]
pub struct ChunkHead<'a> {
    /// 1-based position of the chunk in the stream.
    pub number: u64,
    /// The metadata bytes (a JSON object when well formed).
    pub metadata: &'a [u8],
    /// The body's length in bytes.
    pub body: u64,
}

/// Reads chunks from a byte stream, one at a time, reusing its buffers.
pub struct ChunkReader<R> {
    /// The underlying buffered stream.
    input: R,
    /// Byte offset of the next unread byte in the stream.
    offset: u64,
    /// Number of chunks read so far.
    count: u64,
    /// Largest metadata plus body accepted for one chunk.
    max_chunk_bytes: u64,
    /// Reused buffer for the header line.
    header: Vec<u8>,
    /// Reused buffer for the metadata; only its first bytes belong to
    /// the current chunk.
    metadata: Vec<u8>,
    /// Reused buffer for the body; only its first bytes belong to the
    /// current chunk.
    body: Vec<u8>,
    /// Length of the current chunk's body.
    body_len: u64,
    /// Bytes of the current chunk's body still in the stream.
    body_left: u64,
}

impl<R: BufRead> ChunkReader<R> {
    /// A reader over `input` with the default chunk size limit.
    pub fn new(input: R) -> ChunkReader<R> {
        ChunkReader {
            input,
            offset: 0,
            count: 0,
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
            header: Vec::with_capacity(MAX_HEADER_BYTES),
            metadata: Vec::new(),
            body: Vec::new(),
            body_len: 0,
            body_left: 0,
        }
    }

    /// Sets the largest metadata plus body accepted for one chunk.
    pub fn set_max_chunk_bytes(&mut self, limit: u64) {
        self.max_chunk_bytes = limit;
    }

    /// Number of chunks read so far.
    pub fn chunks_read(&self) -> u64 {
        self.count
    }

    /// Gives back the underlying stream (with whatever it still buffers).
    pub fn into_inner(self) -> R {
        self.input
    }

    /// Reads the next chunk. Returns `None` when the stream ends cleanly
    /// between chunks, and an error when it ends inside one.
    pub fn read_chunk(&mut self) -> Result<Option<Chunk<'_>>> {
        let Some(head) = self.read_head()? else {
            return Ok(None);
        };
        let (number, m, b) = (head.number, head.metadata.len(), head.body);
        self.read_rest()?;
        Ok(Some(Chunk {
            number,
            metadata: &self.metadata[..m],
            body: &self.body[..b as usize],
        }))
    }

    /// Reads the next chunk's header and metadata, leaving its body in the
    /// stream for `read_body`. Returns `None` when the stream ends cleanly
    /// between chunks. The previous chunk's body must have been read.
    pub fn read_head(&mut self) -> Result<Option<ChunkHead<'_>>> {
        debug_assert_eq!(self.body_left, 0, "previous body not read");
        let number = self.count + 1;
        if !self.read_header_line(number)? {
            return Ok(None);
        }
        // Blank lines skipped before the header moved `offset` past them.
        let start = self.offset;
        let (m, b) = parse_header(&self.header).ok_or_else(|| {
            Error::new(ErrorKind::BadHeader {
                chunk: number,
                offset: start,
                found: header_preview(&self.header),
            })
        })?;
        let declared = m.saturating_add(b);
        if declared > self.max_chunk_bytes {
            return Err(Error::new(ErrorKind::ChunkTooLarge {
                chunk: number,
                declared,
                limit: self.max_chunk_bytes,
            }));
        }

        read_part(&mut self.input, &mut self.metadata, m, number, "metadata")?;
        self.offset += self.header.len() as u64 + declared;
        self.count = number;
        self.body_len = b;
        self.body_left = b;
        Ok(Some(ChunkHead {
            number,
            metadata: &self.metadata[..m as usize],
            body: b,
        }))
    }

    /// Reads what is left of the current chunk's body into the reader's
    /// own buffer (which only grows) and returns it.
    pub fn read_rest(&mut self) -> Result<&[u8]> {
        let left = self.body_left as usize;
        let mut body = std::mem::take(&mut self.body);
        let mut got = 0;
        let filled = loop {
            if got == left {
                break Ok(());
            }
            // Room grows with the bytes that arrive, as in `read_part`.
            if body.len() <= got {
                let room = got.max(FIRST_RESERVE).min(left - got);
                body.reserve_exact(got + room - body.len());
                body.resize(got + room, 0);
            }
            let end = body.len().min(left);
            if let Err(e) = self.read_body(&mut body[got..end]) {
                break Err(e);
            }
            got = end;
        };
        self.body = body;
        filled?;
        Ok(&self.body[..left])
    }

    /// Bytes of the current chunk's body not read yet.
    pub fn body_left(&self) -> u64 {
        self.body_left
    }

    /// Reads the next `buf.len()` bytes of the current chunk's body (no
    /// more than `body_left`), looping over short reads; reports a
    /// truncated chunk if the stream ends first.
    pub fn read_body(&mut self, buf: &mut [u8]) -> Result<()> {
        assert!(buf.len() as u64 <= self.body_left, "read past the body");
        let mut got = 0;
        while got < buf.len() {
            match self.input.read(&mut buf[got..]) {
                Ok(0) => {
                    let arrived = self.body_len - self.body_left + got as u64;
                    return Err(Error::new(ErrorKind::Truncated {
                        chunk: self.count,
                        part: "body",
                        expected: self.body_len,
                        got: arrived,
                    }));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        self.body_left -= got as u64;
        Ok(())
    }

    /// Reads the header line into `self.header`, skipping blank lines before
    /// it (old SDKs wrote a stray newline after a chunk). Returns false at a
    /// clean end of stream.
    fn read_header_line(&mut self, number: u64) -> Result<bool> {
        self.header.clear();
        loop {
            let buf = fill(&mut self.input)?;
            if buf.is_empty() {
                if self.header.is_empty() {
                    return Ok(false);
                }
                return Err(Error::new(ErrorKind::Truncated {
                    chunk: number,
                    part: "header",
                    expected: self.header.len() as u64 + 1,
                    got: self.header.len() as u64,
                }));
            }
            let room = MAX_HEADER_BYTES - self.header.len();
            let take = buf.len().min(room);
            match memchr::memchr(b'\n', &buf[..take]) {
                Some(i) => {
                    self.header.extend_from_slice(&buf[..=i]);
                    self.input.consume(i + 1);
                    if self.header == b"\n" || self.header == b"\r\n" {
                        self.offset += self.header.len() as u64;
                        self.header.clear();
                        continue;
                    }
                    return Ok(true);
                }
                None => {
                    self.header.extend_from_slice(&buf[..take]);
                    self.input.consume(take);
                    if self.header.len() >= MAX_HEADER_BYTES {
                        return Err(Error::new(ErrorKind::BadHeader {
                            chunk: number,
                            offset: self.offset,
                            found: header_preview(&self.header),
                        }));
                    }
                }
            }
        }
    }
}

/// Fills the stream's buffer, retrying when a read is interrupted.
fn fill<R: BufRead>(input: &mut R) -> io::Result<&[u8]> {
    loop {
        match input.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    input.fill_buf()
}

/// Reads exactly `len` bytes into `buf[..len]`, looping over short reads;
/// reports a truncated chunk if the stream ends first.
///
/// The bytes go straight from the stream into `buf` (a `BufReader` hands
/// a large read to the operating system without copying through its own
/// buffer), and `buf` only ever grows: its bytes beyond `len` are stale
/// content of earlier chunks, so no chunk pays for zeroing or freeing it.
fn read_part<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    len: u64,
    chunk: u64,
    part: &'static str,
) -> Result<()> {
    let len = len as usize;
    let mut got = 0;
    while got < len {
        // Room grows with the bytes that really arrive (at most doubling):
        // a header that declares a gigabyte and sends nothing costs a small
        // buffer. The buffer never shrinks, so steady chunks reuse it.
        if buf.len() <= got {
            let room = got.max(FIRST_RESERVE).min(len - got);
            buf.reserve_exact(got + room - buf.len());
            buf.resize(got + room, 0);
        }
        let end = buf.len().min(len);
        match input.read(&mut buf[got..end]) {
            Ok(0) => {
                return Err(Error::new(ErrorKind::Truncated {
                    chunk,
                    part,
                    expected: len as u64,
                    got: got as u64,
                }));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Parses `chunked 1.0,<m>,<b>\n`, accepting the spaces the SDK's reader
/// accepts (regex `chunked\s+1.0\s*,\s*(\d+)\s*,\s*(\d+)\s*\n`).
fn parse_header(line: &[u8]) -> Option<(u64, u64)> {
    let line = line.strip_suffix(b"\n")?;
    let rest = line.strip_prefix(b"chunked")?;
    let trimmed = trim_start(rest);
    if trimmed.len() == rest.len() {
        return None;
    }
    let rest = trim_start(trimmed.strip_prefix(b"1.0")?);
    let rest = trim_start(rest.strip_prefix(b",")?);
    let (m, rest) = number(rest)?;
    let rest = trim_start(rest);
    let rest = trim_start(rest.strip_prefix(b",")?);
    let (b, rest) = number(rest)?;
    if !trim_start(rest).is_empty() {
        return None;
    }
    Some((m, b))
}

/// Drops leading ASCII whitespace.
fn trim_start(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[n..]
}

/// Parses a run of decimal digits at the start of `bytes`; `None` if there
/// is none or it overflows a u64.
fn number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let text = std::str::from_utf8(&bytes[..n]).ok()?;
    Some((text.parse().ok()?, &bytes[n..]))
}

/// Writes one chunk: header, metadata, body, then flushes so that Splunk
/// sees the whole reply at once.
pub fn write_chunk<W: Write>(
    out: &mut W,
    metadata: &[u8],
    body: &[u8],
) -> io::Result<()> {
    writeln!(out, "chunked 1.0,{},{}", metadata.len(), body.len())?;
    out.write_all(metadata)?;
    out.write_all(body)?;
    out.flush()
}

/// Writes one chunk whose body, `body_len` bytes, `write_body` writes in
/// pieces (so that a large body is never held whole), then flushes. A
/// body of another length than announced is an error: the reader would
/// lose its place in the stream.
pub fn write_chunk_streamed<W, F>(
    out: &mut W,
    metadata: &[u8],
    body_len: usize,
    write_body: F,
) -> io::Result<()>
where
    W: Write,
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    writeln!(out, "chunked 1.0,{},{}", metadata.len(), body_len)?;
    out.write_all(metadata)?;
    let mut counted = Counted {
        inner: &mut *out,
        written: 0,
    };
    write_body(&mut counted)?;
    if counted.written != body_len {
        return Err(io::Error::other(format!(
            "the reply body was {} bytes, not the {body_len} its chunk \
             header announced",
            counted.written
        )));
    }
    out.flush()
}

/// A writer that counts the bytes it passes on.
struct Counted<'a, W: Write> {
    /// Where the bytes go.
    inner: &'a mut W,
    /// Bytes passed on so far.
    written: usize,
}

impl<W: Write> Write for Counted<'_, W> {
    /// Passes `buf` on, counting what the inner writer took.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n;
        Ok(n)
    }

    /// Flushes the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_chunk_is_the_chunk_of_its_whole_body() {
        let mut whole = Vec::new();
        write_chunk(&mut whole, b"{}", b"abcdef").unwrap();
        let mut streamed = Vec::new();
        write_chunk_streamed(&mut streamed, b"{}", 6, |out| {
            out.write_all(b"abc")?;
            out.write_all(b"def")
        })
        .unwrap();
        assert_eq!(streamed, whole);
        assert_eq!(read_all(&streamed[..]).unwrap().len(), 1);
    }

    #[test]
    fn a_streamed_body_of_another_length_is_an_error() {
        let mut out = Vec::new();
        let err = write_chunk_streamed(&mut out, b"{}", 5, |out| {
            out.write_all(b"abcdef")
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the reply body was 6 bytes, not the 5 its chunk header \
             announced"
        );
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut reader = ChunkReader::new(bytes);
        let mut out = Vec::new();
        while let Some(chunk) = reader.read_chunk()? {
            out.push((chunk.metadata.to_vec(), chunk.body.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn lengths_are_bytes_not_characters() {
        // "ทt" is 4 bytes: 3 for the Thai letter, 1 for t.
        let stream = "chunked 1.0,2,4\n{}ทt".as_bytes();
        let chunks = read_all(stream).unwrap();
        assert_eq!(chunks, vec![(b"{}".to_vec(), "ทt".as_bytes().to_vec())]);
    }

    #[test]
    fn consecutive_chunks_and_clean_end() {
        let stream = b"chunked 1.0,2,0\n{}chunked 1.0,1,3\n1abc";
        let chunks = read_all(stream).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1], (b"1".to_vec(), b"abc".to_vec()));
    }

    #[test]
    fn tolerant_spacing_and_blank_lines() {
        let stream = b"\nchunked  1.0 , 2 , 1 \n{}x";
        let chunks = read_all(stream).unwrap();
        assert_eq!(chunks, vec![(b"{}".to_vec(), b"x".to_vec())]);
    }

    #[test]
    fn short_reads_are_completed() {
        struct OneByte<'a>(&'a [u8]);
        impl io::Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let input = io::BufReader::with_capacity(
            1,
            OneByte(b"chunked 1.0,2,5\n{}hello"),
        );
        let mut reader = ChunkReader::new(input);
        let chunk = reader.read_chunk().unwrap().unwrap();
        assert_eq!(chunk.body, b"hello");
        assert!(reader.read_chunk().unwrap().is_none());
    }

    #[test]
    fn end_inside_body_is_an_error() {
        let err = read_all(b"chunked 1.0,2,10\n{}abc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 1: the stream ended inside the body (3 of 10 bytes \
             arrived)"
        );
    }

    #[test]
    fn end_inside_header_is_an_error() {
        let err = read_all(b"chunked 1.0,2").unwrap_err();
        assert!(err.to_string().contains("inside the header"), "{err}");
    }

    #[test]
    fn offsets_count_skipped_blank_lines() {
        let err = read_all(b"\n\n\n12345\n").unwrap_err();
        assert!(err.to_string().starts_with("chunk 1 at byte 3:"), "{err}");
    }

    #[test]
    fn bytes_after_a_misframed_getinfo_are_not_echoed() {
        let stream = b"chunked 1.0,2,0\n{}\"session_key\":\"SeCrEt-123\"}\n";
        let err = read_all(stream).unwrap_err().to_string();
        assert!(!err.contains("SeCrEt"), "{err}");
        assert!(err.contains("not shown"), "{err}");
    }

    #[test]
    fn garbage_header_is_named() {
        let err = read_all(b"hello world\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 1 at byte 0: expected a header 'chunked 1.0,<metadata \
             length>,<body length>', found 12 bytes that do not start with \
             'chunked' (not shown: they may be event data)"
        );
        for bad in [
            &b"chunked 1.0,-1,0\n"[..],
            b"chunked 1.0,x,0\n",
            b"chunked 1.0,99999999999999999999999,0\n",
            b"chunked1.0,1,0\n",
            b"chunked 2.0,1,0\n",
        ] {
            assert!(read_all(bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn absurd_length_is_refused_before_allocation() {
        let err =
            read_all(b"chunked 1.0,2,18446744073709551615\n{}").unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::ChunkTooLarge { .. }),
            "{err}"
        );
    }

    #[test]
    fn memory_follows_the_bytes_that_arrive() {
        let mut stream = b"chunked 1.0,0,1000000000\n".to_vec();
        stream.extend([b'x'; 10]);
        let mut reader = ChunkReader::new(&stream[..]);
        let err = reader.read_chunk().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Truncated { got: 10, .. }));
        assert_eq!(reader.body.capacity(), FIRST_RESERVE);

        let body = vec![b'y'; 200_000];
        let mut stream = b"chunked 1.0,0,200000\n".to_vec();
        stream.extend(&body);
        let mut reader = ChunkReader::new(&stream[..]);
        assert_eq!(reader.read_chunk().unwrap().unwrap().body, &body[..]);
        // 64 KiB, doubled to 128 KiB, then the exact rest.
        assert_eq!(reader.body.capacity(), 200_000);
    }

    #[test]
    fn endless_header_is_cut() {
        let long = vec![b'a'; 10_000];
        let err = read_all(&long).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::BadHeader { .. }));
    }

    #[test]
    fn writer_counts_bytes() {
        let mut out = Vec::new();
        write_chunk(&mut out, b"{}", "测试".as_bytes()).unwrap();
        assert_eq!(out, "chunked 1.0,2,6\n{}测试".as_bytes());
    }
}
