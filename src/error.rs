//! The crate's one error type.
//!
//! Every error says what was wrong with the input and where: the chunk
//! number, the byte offset in the stream, the record or the option. None of
//! them ever carries a secret (the session key is never read into memory by
//! this crate) or a whole event text.

use std::fmt;
use std::io;

/// An error from reading, decoding or answering a Splunk chunk stream, or
/// from the offline front ends.
#[derive(Debug)]
pub struct Error {
    /// What went wrong, with its position.
    kind: ErrorKind,
}

/// The kinds of error, each carrying the position where it happened.
#[derive(Debug)]
pub enum ErrorKind {
    /// Reading stdin or writing stdout failed.
    Io(io::Error),
    /// A chunk header line was not `chunked 1.0,<m>,<b>`.
    BadHeader {
        /// 1-based number of the chunk in the stream.
        chunk: u64,
        /// Byte offset of the header in the stream.
        offset: u64,
        /// What was found instead, already cut to a printable preview.
        found: String,
    },
    /// The stream ended inside a chunk.
    Truncated {
        /// 1-based number of the chunk in the stream.
        chunk: u64,
        /// Which part was cut short: "header", "metadata" or "body".
        part: &'static str,
        /// Bytes that the header declared for that part.
        expected: u64,
        /// Bytes that arrived before the end of the stream.
        got: u64,
    },
    /// A chunk declared more bytes than the configured limit.
    ChunkTooLarge {
        /// 1-based number of the chunk in the stream.
        chunk: u64,
        /// Bytes declared by the header (metadata plus body).
        declared: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The metadata of a chunk was not the JSON object expected.
    Metadata {
        /// 1-based number of the chunk in the stream.
        chunk: u64,
        /// What was wrong with it.
        reason: String,
    },
    /// The chunks came in an order the protocol does not allow.
    Sequence {
        /// 1-based number of the chunk in the stream.
        chunk: u64,
        /// What was wrong with the order.
        reason: String,
    },
    /// An option of the search command was wrong.
    Option(String),
    /// The CSV body of an execute chunk could not be decoded.
    Csv {
        /// 1-based number of the chunk in the stream.
        chunk: u64,
        /// 1-based record number in that chunk's body (0 = header row).
        record: u64,
        /// What was wrong with the record.
        reason: String,
    },
    /// The stats table reached a limit: more groups than `max_groups`, or
    /// a count past 64 bits.
    Limit {
        /// 1-based number of the chunk in the stream.
        chunk: u64,
        /// 1-based record number in that chunk's body.
        record: u64,
        /// Which limit.
        limit: crate::stats::Limit,
    },
    /// An offline input file could not be used.
    Input {
        /// The file's path as given.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A command-line usage error of the offline front ends.
    Usage(String),
}

impl Error {
    /// Wraps an error kind.
    pub fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// The kind of this error.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// A usage error with the given message.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage(message.into()))
    }

    /// An option error with the given message.
    pub fn option(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Option(message.into()))
    }

    /// An error about an offline input file.
    pub fn input(path: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::new(ErrorKind::Input {
            path: path.into(),
            reason: reason.into(),
        })
    }

    /// True when this error is a broken pipe on output, which is a normal
    /// end (the reader went away), not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(&self.kind, ErrorKind::Io(e)
            if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::new(ErrorKind::Io(e))
    }
}

impl std::error::Error for Error {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Io(e) => write!(f, "i/o error: {e}"),
            ErrorKind::BadHeader {
                chunk,
                offset,
                found,
            } => write!(
                f,
                "chunk {chunk} at byte {offset}: expected a header \
                 'chunked 1.0,<metadata length>,<body length>', \
                 found {found}"
            ),
            ErrorKind::Truncated {
                chunk,
                part,
                expected,
                got,
            } => {
                if *part == "header" {
                    // A header line has no declared length.
                    return write!(
                        f,
                        "chunk {chunk}: the stream ended inside the header \
                         line, after {got} bytes"
                    );
                }
                write!(
                    f,
                    "chunk {chunk}: the stream ended inside the {part} \
                     ({got} of {expected} bytes arrived)"
                )
            }
            ErrorKind::ChunkTooLarge {
                chunk,
                declared,
                limit,
            } => write!(
                f,
                "chunk {chunk}: declares {declared} bytes, more than the \
                 limit of {limit} bytes (option max_chunk_bytes)"
            ),
            ErrorKind::Metadata { chunk, reason } => {
                write!(f, "chunk {chunk}: bad metadata: {reason}")
            }
            ErrorKind::Sequence { chunk, reason } => {
                write!(f, "chunk {chunk}: {reason}")
            }
            ErrorKind::Option(message) => write!(f, "{message}"),
            ErrorKind::Csv {
                chunk,
                record,
                reason,
            } => {
                if *record == 0 {
                    write!(f, "chunk {chunk}: CSV header row: {reason}")
                } else {
                    write!(f, "chunk {chunk}: CSV record {record}: {reason}")
                }
            }
            ErrorKind::Limit {
                chunk,
                record,
                limit,
            } => write!(f, "chunk {chunk}: CSV record {record}: {limit}"),
            ErrorKind::Input { path, reason } => {
                write!(f, "{path}: {reason}")
            }
            ErrorKind::Usage(message) => write!(f, "{message}"),
        }
    }
}

/// A printable preview of raw bytes for an error message: at most 40
/// characters, control characters escaped, so that a garbage header never
/// floods the user's screen.
pub fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
    let mut out: String = text.escape_debug().collect();
    if bytes.len() > 40 {
        out.push_str("...");
    }
    format!("\"{out}\"")
}

/// What an error may show of a line that should have been a chunk header.
/// A line that starts like a header, or holds only digits, separators and
/// spaces, is shown (as `preview` does); any other line is described, not
/// shown: after a mis-framed chunk it may be the rest of the getinfo JSON,
/// session key included, or event text.
pub fn header_preview(line: &[u8]) -> String {
    let header_like = line.starts_with(b"chunked")
        || line.iter().all(|b| b"0123456789.,+- \t\r\n".contains(b));
    if header_like {
        return preview(line);
    }
    format!(
        "{} bytes that do not start with 'chunked' (not shown: they may be \
         event data)",
        line.len()
    )
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Limit;

    #[test]
    fn limit_errors_name_the_limit_and_the_option() {
        let at = |chunk, limit| {
            Error::new(ErrorKind::Limit {
                chunk,
                record: 7,
                limit,
            })
            .to_string()
        };
        assert_eq!(
            at(3, Limit::Groups { limit: 10 }),
            "chunk 3: CSV record 7: stats would hold more than 10 groups, \
             the limit set by option max_groups; narrow the search or the \
             BY fields, or raise max_groups"
        );
        assert_eq!(
            at(2, Limit::Count),
            "chunk 2: CSV record 7: the multivalue BY fields of this event \
             repeat values so often that count would pass \
             18446744073709551615"
        );
    }
}
