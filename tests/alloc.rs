//! Non-matching events cost only the scan of the match field: no heap
//! allocation per event, whatever the number of events.
//!
//! The measuring global allocator (tests/measure) counts allocations; the
//! tests count the allocations a whole protocol conversation makes, and
//! the ones the per-event loop makes (one test at a time: `SERIAL`).

mod measure;

use measure::allocations;
use scriptblockhunt::generate::{self, Limit, Plan};
use scriptblockhunt::options::Options;
use scriptblockhunt::records::Records;
use scriptblockhunt::search::Search;
use scriptblockhunt::session;

#[global_allocator]
static GLOBAL: measure::Measuring = measure::Measuring;

/// Serialises the tests of this file.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A generated stream of `events` events, none matching.
fn stream(events: u64) -> Vec<u8> {
    let plan = Plan {
        limit: Limit::Events(events),
        match_share: 0.0,
        groups: 1,
        seed: 7,
        text_min: 30,
        text_max: 5_000,
        args: Vec::new(),
    };
    let mut out = Vec::new();
    generate::write(&plan, &mut out).unwrap();
    out
}

#[test]
fn a_conversation_allocates_the_same_for_2000_and_40000_events() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Both streams are getinfo plus one execute chunk (up to 50,000
    // rows), read through the same window.
    let small = stream(2_000);
    let large = stream(40_000);
    let run = |bytes: &[u8]| {
        let mut out = Vec::with_capacity(1 << 16);
        allocations(|| session::serve(bytes, &mut out).unwrap())
    };
    let (a, b) = (run(&small), run(&large));
    assert_eq!(a, b, "2,000 events: {a} allocations, 40,000 events: {b}");
    assert!(a < 1000, "{a} allocations");
}

#[test]
fn the_per_event_loop_allocates_nothing_for_non_matching_events() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = stream(3_000);
    let mut reader = scriptblockhunt::chunk::ChunkReader::new(&bytes[..]);
    reader.read_chunk().unwrap().unwrap();
    let chunk = reader.read_chunk().unwrap().unwrap();
    let mut search = Search::new(&Options::default()).unwrap();
    let names = search.layout().names.clone();
    let mut records = Records::new(2, chunk.body, &names).unwrap();
    // Warm up: the span buffer grows on the first record.
    assert!(records.advance().unwrap());
    assert!(!search.offer(&records).unwrap());
    let mut events = 1;
    let count = allocations(|| {
        while records.advance().unwrap() {
            assert!(!search.offer(&records).unwrap());
            events += 1;
        }
    });
    assert_eq!(events, 3_000);
    assert_eq!(count, 0, "{count} allocations for {events} events");
}

#[test]
fn matching_events_of_known_groups_allocate_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Every event matches and falls into one of 5 groups: once the 5
    // groups exist (and hold their first min and max), further events
    // only update counts, unless their _time is a new min or max.
    let plan = Plan {
        limit: Limit::Events(3_000),
        match_share: 1.0,
        groups: 5,
        seed: 7,
        text_min: 30,
        text_max: 2_000,
        args: Vec::new(),
    };
    let mut bytes = Vec::new();
    generate::write(&plan, &mut bytes).unwrap();
    let mut reader = scriptblockhunt::chunk::ChunkReader::new(&bytes[..]);
    reader.read_chunk().unwrap().unwrap();
    let chunk = reader.read_chunk().unwrap().unwrap();
    let mut search = Search::new(&Options::default()).unwrap();
    let names = search.layout().names.clone();
    let mut records = Records::new(2, chunk.body, &names).unwrap();
    for _ in 0..500 {
        assert!(records.advance().unwrap());
        assert!(search.offer(&records).unwrap());
    }
    let mut events = 0;
    let count = allocations(|| {
        while records.advance().unwrap() {
            assert!(search.offer(&records).unwrap());
            events += 1;
        }
    });
    assert_eq!(events, 2_500);
    assert_eq!(search.groups(), 5);
    // A new min or max copies its _time text: with random times that
    // happens about 2 ln(n) times per group, well under 100 in all.
    assert!(count < 100, "{count} allocations for {events} events");
}
