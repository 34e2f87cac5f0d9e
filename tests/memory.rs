//! Memory of many hunts over one large event: how many copies of a large
//! BY value the group tables hold.
//!
//! The measuring global allocator (tests/measure) records the most bytes
//! live at once; the tests offer one event whose `ScriptBlockText`
//! (a BY field, as in every ESCU hunt) is 1 MiB and matches every hunt,
//! and compare the peak with the value's size.

mod measure;

use scriptblockhunt::catalog::{Hunt, Plan};
use scriptblockhunt::condition::Condition;
use scriptblockhunt::event::{Event, Field};
use scriptblockhunt::search::Search;

#[global_allocator]
static GLOBAL: measure::Measuring = measure::Measuring;

/// Serialises the tests of this file, so that no other test allocates
/// while one measures.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Size of the large value.
const MIB: usize = 1 << 20;

/// Number of hunts, each matching the event.
const HUNTS: usize = 40;

/// An event of three fields by slot: `ScriptBlockText`, `ScriptBlockId`
/// and `_time` (the layout of `Search::with_plan` for these BY fields).
struct Big(Vec<Vec<u8>>);

impl Event for Big {
    fn field<'s>(&'s self, slot: usize, _: &'s mut Vec<u8>) -> Field<'s> {
        match self.0.get(slot) {
            Some(v) if !v.is_empty() => Field::Single(v),
            _ => Field::Null,
        }
    }
}

/// The most bytes live at once, above those live before, while `HUNTS`
/// hunts (BY `ScriptBlockText,ScriptBlockId`) decide and group one event
/// whose 1 MiB text they all match.
fn peak_for_one_large_event() -> usize {
    let by = vec!["ScriptBlockText".to_string(), "ScriptBlockId".to_string()];
    let hunts = (0..HUNTS)
        .map(|i| Hunt {
            name: format!("h{i:02}"),
            id: format!("id{i:02}"),
            by: by.clone(),
            condition: Condition::parse(
                &format!("ScriptBlockText=\"*lit{i:02}*\""),
                "ScriptBlockText",
            )
            .unwrap(),
        })
        .collect();
    let plan = Plan { hunts, named: true };
    let mut search = Search::with_plan("ScriptBlockText", &plan, "0").unwrap();
    let layout = search.layout();
    assert_eq!(
        layout.names[..3],
        ["ScriptBlockText", "ScriptBlockId", "_time"]
    );
    let mut text: Vec<u8> = (0..HUNTS)
        .flat_map(|i| format!("lit{i:02} ").into_bytes())
        .collect();
    text.resize(MIB, b'x');
    let event = Big(vec![text, b"block-1".to_vec(), b"1600000000".to_vec()]);

    let peak = measure::peak_of(|| assert!(search.offer(&event).unwrap()));
    // Every hunt holds the event's group.
    let (results, counters) = search.finish();
    assert_eq!(counters.matched, 1);
    drop(results);
    peak
}

#[test]
fn each_hunt_holds_one_copy_of_a_large_by_value() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Each hunt's group keeps its own key, one copy of the value per
    // hunt; nothing else may keep another per hunt (the table's reused
    // key buffer kept a second one, 2 x HUNTS copies in all, 80 MiB
    // here). The slack of 4 MiB covers the search's own buffers.
    let peak = peak_for_one_large_event();
    assert!(
        peak <= (HUNTS + 4) * MIB,
        "peak {peak} bytes for {HUNTS} hunts over a {MIB}-byte value"
    );
}

#[test]
#[ignore = "known: every hunt's table copies the key; see the comment"]
fn hunts_share_one_copy_of_a_large_by_value() {
    // TODO: hunts=all over one script block of S bytes holds about 90 x S
    // (ESCU: 90 hunts match a text with all their literals; 769 MB of
    // RSS for an 8 MB block, docs/breaker.md). The groups of different
    // hunts for the same event have the same BY bytes; keeping them once
    // (a shared arena or reference-counted keys in stats) would bound
    // the memory by the distinct values, not by hunts times values.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let peak = peak_for_one_large_event();
    assert!(
        peak <= 8 * MIB,
        "peak {peak} bytes for {HUNTS} hunts over a {MIB}-byte value"
    );
}
