//! Fuzz target: arbitrary bytes as the stream Splunk writes to the
//! command's stdin.
//!
//! Each input is played through the whole protocol driver
//! (`session::serve`: chunk framing, metadata, options, CSV records,
//! `__mv_` cells, the matcher and stats), then through the chunk reader and
//! the full CSV decoder on every body. Besides "no panic, no hang", it
//! checks what the command wrote back: well-formed chunks, each with a JSON
//! object as metadata, never more replies than requests, and an error reply
//! that says `finished:true` whenever the driver returned an error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scriptblockhunt::chunk::ChunkReader;
use scriptblockhunt::{records, session};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let result = session::serve(data, &mut out);

    let mut requests = ChunkReader::new(data);
    let mut bodies = 0u64;
    while let Ok(Some(chunk)) = requests.read_chunk() {
        let _ = records::all_rows(chunk.body);
        bodies += 1;
    }

    let mut replies = ChunkReader::new(&out[..]);
    let mut count = 0u64;
    let mut last = None;
    while let Some(chunk) = replies.read_chunk().expect("replies are framed")
    {
        let metadata: serde_json::Value =
            serde_json::from_slice(chunk.metadata).expect("reply is JSON");
        assert!(metadata.is_object(), "reply metadata is an object");
        count += 1;
        last = Some(metadata);
    }
    assert!(count <= bodies + 1, "{count} replies to {bodies} chunks");
    if result.is_err() {
        let last = last.expect("an error is always answered");
        assert_eq!(last["finished"], serde_json::json!(true));
        assert!(last["error"].is_string());
    }
});
