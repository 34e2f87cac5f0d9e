//! Script blocks split across several 4104 events, joined again.
//!
//! PowerShell logs a script block of 20,000 characters or more as several
//! 4104 events that share one `ScriptBlockId`, numbered `MessageNumber` 1
//! to `MessageTotal`, each holding a piece of random length (10,000 to
//! 20,000 characters; `CompiledScriptBlock.cs`, semantics notes §7). A
//! cmdlet name cut between two pieces matches in neither. The assembler
//! holds the pieces of each block, keyed by `dest` and `ScriptBlockId`,
//! until all have arrived, and then gives the block back as one event: its
//! `ScriptBlockText` is the pieces joined in `MessageNumber` order, its
//! `_time` the earliest piece's, every other field the first piece's.
//!
//! Rules where PowerShell's logging leaves a choice:
//!
//! * an event is a piece when `MessageTotal` is a whole number above 1,
//!   `MessageNumber` lies in `1..=MessageTotal` and `ScriptBlockId` is
//!   set; every other event passes straight through, never held;
//! * a piece whose number the pending block already holds is a duplicate:
//!   it is dropped and counted (a whole block logged twice, after the first
//!   copy completed, is two blocks, as Splunk would count two events);
//! * a block still incomplete when the input ends, or pushed out because
//!   the pieces held passed the memory limit (oldest block first), is
//!   joined from the pieces that arrived and counted, so that nothing is
//!   lost and the run can say how many there were.
//!
//! Only pieces of incomplete blocks are held.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::event::{push_values, BadMultivalue, Event, Field};
use crate::order;
use crate::search::{BadField, Rejected, Search};

/// The field names the assembler needs besides the match field.
pub const FIELDS: [&str; 4] =
    ["dest", "ScriptBlockId", "MessageNumber", "MessageTotal"];

/// Default limit on the bytes of held pieces: 256 MiB, room for some ten
/// thousand blocks of the largest kind PowerShell writes.
pub const DEFAULT_LIMIT_BYTES: usize = 256 << 20;

/// An event with its own copy of every slot's values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedEvent {
    /// The values of each slot; empty = null.
    slots: Vec<Vec<Vec<u8>>>,
}

impl OwnedEvent {
    /// Copies the `width` slots of `event`.
    pub fn capture<E: Event + ?Sized>(
        event: &E,
        width: usize,
    ) -> Result<OwnedEvent, (usize, BadMultivalue)> {
        let mut slots = Vec::with_capacity(width);
        let (mut scratch, mut item) = (Vec::new(), Vec::new());
        for slot in 0..width {
            let (mut arena, mut ranges) = (Vec::new(), Vec::new());
            let field = event.field(slot, &mut scratch);
            push_values(field, &mut item, &mut arena, &mut ranges)
                .map_err(|e| (slot, e))?;
            slots
                .push(ranges.into_iter().map(|r| arena[r].to_vec()).collect());
        }
        Ok(OwnedEvent { slots })
    }

    /// An event from explicit slot values.
    pub fn from_slots(slots: Vec<Vec<Vec<u8>>>) -> OwnedEvent {
        OwnedEvent { slots }
    }

    /// The first value of `slot`.
    fn first(&self, slot: usize) -> Option<&[u8]> {
        self.slots[slot].first().map(Vec::as_slice)
    }

    /// Bytes held by the values.
    fn size(&self) -> usize {
        self.slots.iter().flatten().map(Vec::len).sum()
    }
}

impl Event for OwnedEvent {
    fn field<'s>(&'s self, slot: usize, _: &'s mut Vec<u8>) -> Field<'s> {
        match self.slots[slot].as_slice() {
            [] => Field::Null,
            [one] => Field::Single(one),
            many => Field::List(many),
        }
    }
}

/// The slots of the fields the assembler reads and writes.
#[derive(Clone, Copy, Debug)]
pub struct Roles {
    /// `ScriptBlockText` (the joined field).
    pub text: usize,
    /// `_time` (the earliest piece's wins).
    pub time: usize,
    /// `dest` (half of the block key).
    pub dest: usize,
    /// `ScriptBlockId` (the other half).
    pub id: usize,
    /// `MessageNumber`.
    pub number: usize,
    /// `MessageTotal`.
    pub total: usize,
}

/// What the assembler saw, for the summary and the inspector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Pieces received (events of multi-piece blocks).
    pub pieces: u64,
    /// Blocks that had several pieces.
    pub blocks: u64,
    /// Blocks joined from all their pieces.
    pub complete: u64,
    /// Blocks still incomplete at the end of the input.
    pub incomplete: u64,
    /// Blocks pushed out early by the memory limit.
    pub evicted: u64,
    /// Duplicate pieces dropped.
    pub duplicates: u64,
}

/// The pieces of one pending block.
#[derive(Debug)]
struct Block {
    /// `MessageTotal`.
    total: u64,
    /// Pieces by `MessageNumber`.
    pieces: BTreeMap<u64, OwnedEvent>,
    /// Bytes held.
    bytes: usize,
    /// Arrival sequence number of the block's first piece.
    seq: u64,
}

/// Joins pieces into blocks.
#[derive(Debug)]
pub struct Assembler {
    /// Slots of the fields used.
    roles: Roles,
    /// Pending blocks by key (dest and ScriptBlockId).
    blocks: HashMap<Vec<u8>, Block>,
    /// Keys in order of first arrival, with their sequence number; stale
    /// entries (blocks gone) are skipped.
    arrival: VecDeque<(u64, Vec<u8>)>,
    /// Next sequence number.
    seq: u64,
    /// Bytes held in all pending blocks.
    held: usize,
    /// Limit on `held`.
    limit: usize,
    /// Counts so far.
    counts: Counts,
}

impl Assembler {
    /// An assembler over these slots, holding at most `limit` bytes.
    pub fn new(roles: Roles, limit: usize) -> Assembler {
        Assembler {
            roles,
            blocks: HashMap::new(),
            arrival: VecDeque::new(),
            seq: 0,
            held: 0,
            limit,
            counts: Counts::default(),
        }
    }

    /// Counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Bytes of pieces held now.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// True when `event` is a piece of a multi-piece block.
    pub fn is_piece<E: Event + ?Sized>(&self, event: &E) -> bool {
        let mut scratch = Vec::new();
        let total = whole(event.field(self.roles.total, &mut scratch));
        let Some(total) = total.filter(|t| *t > 1) else {
            return false;
        };
        let number = whole(event.field(self.roles.number, &mut scratch));
        let has_id = event.field(self.roles.id, &mut scratch) != Field::Null;
        has_id && number.is_some_and(|n| (1..=total).contains(&n))
    }

    /// Takes one piece (an event for which `is_piece` holds); pushes to
    /// `out` the block it completes, and any blocks the memory limit
    /// pushed out.
    pub fn push(&mut self, piece: OwnedEvent, out: &mut Vec<OwnedEvent>) {
        let roles = self.roles;
        let total = piece.first(roles.total).and_then(number_of).unwrap_or(0);
        let number =
            piece.first(roles.number).and_then(number_of).unwrap_or(0);
        let key = block_key(&piece, roles);
        self.counts.pieces += 1;

        let seq = &mut self.seq;
        let counts = &mut self.counts;
        let arrival = &mut self.arrival;
        let block = self.blocks.entry(key.clone()).or_insert_with(|| {
            *seq += 1;
            counts.blocks += 1;
            arrival.push_back((*seq, key.clone()));
            Block {
                total,
                pieces: BTreeMap::new(),
                bytes: 0,
                seq: *seq,
            }
        });
        if block.pieces.contains_key(&number) {
            self.counts.duplicates += 1;
            return;
        }
        let size = piece.size();
        block.bytes += size;
        block.pieces.insert(number, piece);
        self.held += size;

        if block.pieces.len() as u64 >= block.total {
            let block = self.blocks.remove(&key).expect("block just used");
            self.held -= block.bytes;
            self.counts.complete += 1;
            out.push(join(block, roles));
        }
        while self.held > self.limit {
            let Some(block) = self.pop_oldest() else {
                break;
            };
            self.counts.evicted += 1;
            out.push(join(block, roles));
        }
    }

    /// Ends the input: every pending block, joined from what arrived, in
    /// order of arrival.
    pub fn finish(&mut self, out: &mut Vec<OwnedEvent>) {
        while let Some(block) = self.pop_oldest() {
            self.counts.incomplete += 1;
            out.push(join(block, self.roles));
        }
    }

    /// Removes and returns the pending block that arrived first.
    fn pop_oldest(&mut self) -> Option<Block> {
        while let Some((seq, key)) = self.arrival.pop_front() {
            let current = self.blocks.get(&key).is_some_and(|b| b.seq == seq);
            if current {
                let block = self.blocks.remove(&key).expect("just seen");
                self.held -= block.bytes;
                return Some(block);
            }
        }
        None
    }
}

/// Reassembly in front of a search: single events go straight to the
/// search, pieces wait in the assembler, joined blocks follow.
#[derive(Debug)]
pub struct Joiner {
    /// The pieces held.
    assembler: Assembler,
    /// Number of slots an event carries.
    width: usize,
    /// Joined blocks not yet offered.
    ready: Vec<OwnedEvent>,
}

impl Joiner {
    /// A joiner for `search`, whose layout gains the fields reassembly
    /// reads ([`FIELDS`]); the pieces' values of the matched field are
    /// joined. Holds at most `limit` bytes of pieces.
    pub fn new(search: &mut Search, limit: usize) -> Joiner {
        let [dest, id, number, total] = FIELDS.map(|f| search.require(f));
        let layout = search.layout();
        let roles = Roles {
            text: layout.match_slot,
            time: layout.time_slot,
            dest,
            id,
            number,
            total,
        };
        Joiner {
            assembler: Assembler::new(roles, limit),
            width: layout.names.len(),
            ready: Vec::new(),
        }
    }

    /// Offers one event: at once if it is not a piece, else when its block
    /// is complete (or pushed out by the limit).
    pub fn offer<E: Event + ?Sized>(
        &mut self,
        search: &mut Search,
        event: &E,
    ) -> Result<(), Rejected> {
        if !self.assembler.is_piece(event) {
            return search.offer(event).map(|_| ());
        }
        let piece = OwnedEvent::capture(event, self.width)
            .map_err(|(slot, error)| BadField { slot, error })?;
        let evicted = self.assembler.counts().evicted;
        self.assembler.push(piece, &mut self.ready);
        if self.assembler.counts().evicted > evicted {
            log::warn!(
                "reassembly: more than {} bytes of pieces held; the oldest \
                 incomplete block is matched as it is",
                self.assembler.limit
            );
        }
        self.flush(search)
    }

    /// Ends the input: incomplete blocks are matched on what arrived.
    pub fn finish(&mut self, search: &mut Search) -> Result<Counts, Rejected> {
        self.assembler.finish(&mut self.ready);
        self.flush(search)?;
        Ok(self.assembler.counts())
    }

    /// Counts so far.
    pub fn counts(&self) -> Counts {
        self.assembler.counts()
    }

    /// Offers the joined blocks waiting.
    fn flush(&mut self, search: &mut Search) -> Result<(), Rejected> {
        for event in self.ready.drain(..) {
            search.offer(&event)?;
        }
        Ok(())
    }
}

/// The sentences a run reports about reassembly: how many blocks had
/// several pieces, and the warnings for blocks matched incomplete.
pub fn report(counts: &Counts) -> (String, Vec<String>) {
    let info = format!(
        "reassembly: {} piece(s) of {} multi-piece block(s), {} complete, \
         {} incomplete at the end, {} pushed out by the limit, {} \
         duplicate piece(s) dropped",
        counts.pieces,
        counts.blocks,
        counts.complete,
        counts.incomplete,
        counts.evicted,
        counts.duplicates
    );
    let mut warnings = Vec::new();
    if counts.incomplete > 0 {
        warnings.push(format!(
            "{} script block(s) were still missing pieces at the end of the \
             input and were matched on the pieces that arrived",
            counts.incomplete
        ));
    }
    if counts.evicted > 0 {
        warnings.push(format!(
            "{} incomplete script block(s) were matched early because the \
             pieces held passed reassembly_limit",
            counts.evicted
        ));
    }
    (info, warnings)
}

/// The key of a piece's block: dest and ScriptBlockId (a null dest is a
/// key of its own).
fn block_key(piece: &OwnedEvent, roles: Roles) -> Vec<u8> {
    let mut key = Vec::new();
    for slot in [roles.dest, roles.id] {
        match piece.first(slot) {
            None => key.push(0),
            Some(v) => {
                key.push(1);
                key.extend_from_slice(&(v.len() as u32).to_le_bytes());
                key.extend_from_slice(v);
            }
        }
    }
    key
}

/// Joins a block's pieces into one event: the first piece's fields, the
/// texts in `MessageNumber` order, the earliest `_time`.
fn join(block: Block, roles: Roles) -> OwnedEvent {
    let mut pieces = block.pieces.into_values();
    let mut event = pieces.next().expect("a block has a piece");
    let mut text = event.first(roles.text).map(<[u8]>::to_vec);
    let mut time = event.first(roles.time).map(<[u8]>::to_vec);
    for piece in pieces {
        if let Some(more) = piece.first(roles.text) {
            text.get_or_insert_with(Vec::new).extend_from_slice(more);
        }
        if let Some(t) = piece.first(roles.time) {
            let earlier = time
                .as_deref()
                .is_none_or(|current| order::compare(t, current).is_lt());
            if earlier {
                time = Some(t.to_vec());
            }
        }
    }
    event.slots[roles.text] = text.into_iter().collect();
    event.slots[roles.time] = time.into_iter().collect();
    event
}

/// The whole number a single-valued field spells.
fn whole(field: Field<'_>) -> Option<u64> {
    match field {
        Field::Single(v) => number_of(v),
        Field::List([v, ..]) => number_of(v),
        _ => None,
    }
}

/// Parses decimal digits.
fn number_of(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slots: 0 text, 1 _time, 2 dest, 3 id, 4 number, 5 total, 6 other.
    const ROLES: Roles = Roles {
        text: 0,
        time: 1,
        dest: 2,
        id: 3,
        number: 4,
        total: 5,
    };

    fn piece(id: &str, n: u64, of: u64, text: &str, time: &str) -> OwnedEvent {
        let v = |s: &str| {
            if s.is_empty() {
                vec![]
            } else {
                vec![s.as_bytes().to_vec()]
            }
        };
        OwnedEvent::from_slots(vec![
            v(text),
            v(time),
            v("host"),
            v(id),
            v(&n.to_string()),
            v(&of.to_string()),
            v(&format!("other-{n}")),
        ])
    }

    fn text(event: &OwnedEvent) -> String {
        String::from_utf8(event.slots[0].concat()).unwrap()
    }

    #[test]
    fn pieces_in_any_order_join_in_number_order() {
        let mut a = Assembler::new(ROLES, usize::MAX);
        let mut out = Vec::new();
        a.push(piece("b", 3, 3, "C", "30"), &mut out);
        a.push(piece("b", 1, 3, "A", "20"), &mut out);
        assert!(out.is_empty());
        assert!(a.held_bytes() > 0);
        a.push(piece("b", 2, 3, "B", "10"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(text(&out[0]), "ABC");
        assert_eq!(out[0].slots[1], vec![b"10".to_vec()]);
        assert_eq!(out[0].slots[6], vec![b"other-1".to_vec()]);
        assert_eq!(a.held_bytes(), 0);
    }

    #[test]
    fn interleaved_blocks_and_duplicates() {
        let mut a = Assembler::new(ROLES, usize::MAX);
        let mut out = Vec::new();
        a.push(piece("x", 1, 2, "x1", "1"), &mut out);
        a.push(piece("y", 2, 2, "y2", "1"), &mut out);
        a.push(piece("x", 1, 2, "x1", "1"), &mut out);
        a.push(piece("y", 1, 2, "y1", "1"), &mut out);
        a.push(piece("x", 2, 2, "x2", "1"), &mut out);
        let texts: Vec<String> = out.iter().map(text).collect();
        assert_eq!(texts, vec!["y1y2", "x1x2"]);
        assert_eq!(
            a.counts(),
            Counts {
                pieces: 5,
                blocks: 2,
                complete: 2,
                duplicates: 1,
                ..Counts::default()
            }
        );
    }

    #[test]
    fn missing_pieces_are_joined_at_the_end() {
        let mut a = Assembler::new(ROLES, usize::MAX);
        let mut out = Vec::new();
        a.push(piece("z", 3, 3, "z3", "5"), &mut out);
        a.push(piece("z", 1, 3, "z1", "6"), &mut out);
        a.finish(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(text(&out[0]), "z1z3");
        assert_eq!(a.counts().incomplete, 1);
    }

    #[test]
    fn the_limit_pushes_out_the_oldest_block() {
        let mut a = Assembler::new(ROLES, 60);
        let mut out = Vec::new();
        a.push(piece("old", 1, 2, &"o".repeat(30), "1"), &mut out);
        a.push(piece("new", 1, 2, &"n".repeat(30), "2"), &mut out);
        assert_eq!(out.len(), 1);
        assert!(text(&out[0]).starts_with('o'));
        assert_eq!(a.counts().evicted, 1);
        a.finish(&mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_block_of_sixty_pieces() {
        let mut a = Assembler::new(ROLES, usize::MAX);
        let mut out = Vec::new();
        let mut expected = String::new();
        for n in (1..=60).rev() {
            a.push(piece("big", n, 60, &format!("<{n}>"), "7"), &mut out);
        }
        for n in 1..=60 {
            expected.push_str(&format!("<{n}>"));
        }
        assert_eq!(out.len(), 1);
        assert_eq!(text(&out[0]), expected);
        assert_eq!(a.counts().pieces, 60);
    }

    #[test]
    fn which_events_are_pieces() {
        let a = Assembler::new(ROLES, usize::MAX);
        assert!(a.is_piece(&piece("i", 1, 2, "t", "1")));
        assert!(!a.is_piece(&piece("i", 1, 1, "t", "1")));
        assert!(!a.is_piece(&piece("i", 3, 2, "t", "1")));
        assert!(!a.is_piece(&piece("i", 0, 2, "t", "1")));
        assert!(!a.is_piece(&piece("", 1, 2, "t", "1")));
    }

    #[test]
    fn an_empty_last_piece_adds_nothing() {
        let mut a = Assembler::new(ROLES, usize::MAX);
        let mut out = Vec::new();
        a.push(piece("e", 1, 2, "abc", "1"), &mut out);
        a.push(piece("e", 2, 2, "", "1"), &mut out);
        assert_eq!(text(&out[0]), "abc");
    }
}
