//! Which of many literals occur in a text, ASCII case ignored.
//!
//! The ESCU hunts need to know, for every script block, which of some 170
//! gate literals it contains. An Aho-Corasick automaton answers that in
//! one pass, but it looks at every byte through a table far larger than
//! the processor's first cache, some 380 MB/s here, ten times slower than
//! the two-byte finder of [`Finder`] for one literal. This set looks at a
//! quarter of the positions.
//!
//! The idea is sampling. Take every `stride`-th position of the text and
//! the n bytes starting there (an n-gram). An occurrence of a literal at
//! least `stride + n - 1` bytes long spans `stride` consecutive starting
//! positions whose n-grams lie inside it, and exactly one of them is a
//! sampled position. So each literal puts `stride` of its n-grams (those
//! at offsets `k0 .. k0 + stride`, a window chosen away from common
//! PowerShell words) into a table, and the scan reads one n-gram per
//! `stride` bytes: a hash of it and one bit of a 16 KiB bitmap say whether
//! it can be one of those; only then is the exact n-gram looked up and
//! each literal it belongs to compared in full at the position it implies.
//! Every occurrence is therefore found (no false negative) and every
//! report is a true match (no false positive); the bitmap only decides how
//! often the full comparison runs.
//!
//! The stride is 4 unless more than [`FEW`] literals are shorter than 7
//! bytes (then 2, or 1). Literals of at least `stride + 7` bytes use
//! 8-grams, far rarer in script text than 4-grams; the shorter ones
//! 4-grams. Literals too short for the stride get their own [`Finder`]
//! while they are at most [`FEW`], and literals under 4 bytes beyond that
//! bound go to one Aho-Corasick automaton. With AVX2 eight samples are
//! hashed at once and their bitmap words gathered; a 4-gram table of at
//! most [`SMALL`] n-grams is instead tested against two 256-bit filters
//! held in registers. The work per text is linear in its length whatever
//! the literals.
//!
//! Case folding is `byte | 0x20` on both sides, as in [`Finder`]: bytes
//! equal ignoring ASCII case are equal after it, and the bytes it confuses
//! fail the full comparison.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::literal::{commonness, Finder};

/// Short literals searched one by one, at most; with more, the stride
/// shrinks (or, under 4 bytes, they go to the automaton).
pub const FEW: usize = 6;

/// Bits of the hash that indexes a bitmap: 2^17 bits, 16 KiB.
const BITS: u32 = 17;

/// Multiplier of the low 4 bytes in the hash of an 8-gram.
const LOW: u32 = 0x9E37_79B1;

/// Multiplier of the high 4 bytes in the hash of an 8-gram.
const HIGH: u32 = 0x85EB_CA77;

/// Multiplier in the hash of a 4-gram.
const FOUR: u32 = 0xC2B2_AE3D;

/// The multiplier of the slot hash (multiplicative hashing by the golden
/// ratio).
const SLOT_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// Folds the letters of eight bytes read as a little-endian word.
const FOLD: u64 = 0x2020_2020_2020_2020;

/// A compiled set of literals.
#[derive(Clone, Debug)]
pub struct LiteralSet {
    /// Number of literals.
    len: usize,
    /// Literals searched one by one, with their numbers.
    singles: Vec<(usize, Finder)>,
    /// The sampled tables for the rest.
    sampled: Option<Sampled>,
    /// The automaton for short literals past [`FEW`], with the number of
    /// each of its patterns.
    automaton: Option<(AhoCorasick, Vec<usize>)>,
}

impl LiteralSet {
    /// Compiles `literals`; a literal's number is its index. Empty
    /// literals occur in every text. Fails only when the automaton for
    /// short literals cannot be built.
    pub fn new<L: AsRef<[u8]>>(literals: &[L]) -> Result<LiteralSet, String> {
        let len = |id: &usize| literals[*id].as_ref().len();
        let mut set = LiteralSet {
            len: literals.len(),
            singles: Vec::new(),
            sampled: None,
            automaton: None,
        };
        let mut single = |ids: &[usize]| {
            for &id in ids {
                set.singles.push((id, Finder::new(literals[id].as_ref())));
            }
        };
        let all: Vec<usize> = (0..literals.len()).collect();
        if literals.len() <= FEW {
            // A few literals: one finder each beats any table.
            single(&all);
            return Ok(set);
        }

        // The widest stride that leaves at most FEW literals too short for
        // it; those get finders, unless even stride 1 leaves more.
        let (tiny, rest): (Vec<usize>, Vec<usize>) =
            all.iter().partition(|id| len(id) < 4);
        let stride = [4, 2, 1]
            .into_iter()
            .find(|&s| rest.iter().filter(|id| len(id) < s + 3).count() <= FEW)
            .unwrap_or(1);
        let (short, sampled): (Vec<usize>, Vec<usize>) =
            rest.iter().partition(|id| len(id) < stride + 3);
        single(&short);
        let tiny = if short.len() + tiny.len() <= FEW {
            single(&tiny);
            Vec::new()
        } else {
            tiny
        };
        if !sampled.is_empty() {
            set.sampled = Some(Sampled::new(literals, &sampled, stride));
        }
        if !tiny.is_empty() {
            let patterns: Vec<&[u8]> =
                tiny.iter().map(|&id| literals[id].as_ref()).collect();
            let automaton = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .map_err(|e| {
                    format!(
                        "the {} literals under 4 bytes do not fit in one \
                         automaton ({e})",
                        tiny.len()
                    )
                })?;
            set.automaton = Some((automaton, tiny));
        }
        Ok(set)
    }

    /// Number of literals.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the set has no literal.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `found` with the number of each literal that occurs in
    /// `text`, at least once per literal found and perhaps more often (once
    /// per occurrence at most), never for one that does not occur.
    pub fn scan(&self, text: &[u8], found: &mut impl FnMut(usize)) {
        for (id, finder) in &self.singles {
            if finder.find(text).is_some() {
                found(*id);
            }
        }
        if let Some(sampled) = &self.sampled {
            sampled.scan(text, found);
        }
        if let Some((automaton, ids)) = &self.automaton {
            for m in automaton.find_overlapping_iter(text) {
                found(ids[m.pattern().as_usize()]);
            }
        }
    }
}

/// The sampled tables: the n-grams that stand for the sampled literals.
#[derive(Clone, Debug)]
struct Sampled {
    /// Bytes between sampled positions: 4, or 2 or 1 when many literals
    /// are short.
    stride: usize,
    /// The 8-grams of the literals of at least `stride + 7` bytes (an
    /// 8-gram is far rarer in script text than a 4-gram).
    eight: Option<Grams>,
    /// The 4-grams of the shorter ones.
    four: Option<Grams>,
    /// True when the processor has AVX2 (eight samples per step).
    avx2: bool,
}

/// The n-grams of one length that stand for some literals.
#[derive(Clone, Debug)]
struct Grams {
    /// The n-gram length, 4 or 8.
    n: usize,
    /// Bit `hash(g)` set for each n-gram `g` in the table, 32 bits a
    /// word.
    bitmap: Box<[u32; 1 << (BITS - 5)]>,
    /// Open addressing by `slot(g)`: each n-gram once, with the range of
    /// its entries in `entries`; `count == 0` marks an empty slot.
    slots: Vec<Slot>,
    /// Each n-gram's literals and offsets, grouped by n-gram.
    entries: Vec<Entry>,
    /// The literals, lower case, by number (empty for others').
    literals: Vec<Vec<u8>>,
    /// For a table of at most [`SMALL`] n-grams, two 256-bit filters the
    /// vector path reads from registers instead of the bitmap: bit `x` of
    /// the first set for the hash's top byte, of the second for the byte
    /// below it, of each n-gram.
    small: Option<[[u8; 32]; 2]>,
}

/// Most n-grams of a table whose filters stay in registers (each is then
/// at most a fifth full, and both pass a sample by chance about once in
/// twenty-five).
const SMALL: usize = 64;

/// One slot of the n-gram table.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// The n-gram as a [`Word`].
    word: u64,
    /// Index of its first entry.
    first: u32,
    /// Number of its entries; 0 for an empty slot.
    count: u32,
}

/// An n-gram's place in a literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// The literal's number.
    literal: u32,
    /// The n-gram's offset in the literal.
    offset: u32,
}

impl Sampled {
    /// The tables for the literals numbered `ids`, each at least
    /// `stride + 3` bytes long.
    fn new<L: AsRef<[u8]>>(
        literals: &[L],
        ids: &[usize],
        stride: usize,
    ) -> Sampled {
        let (long, short): (Vec<usize>, Vec<usize>) = ids
            .iter()
            .partition(|&&id| literals[id].as_ref().len() >= stride + 7);
        let table = |ids: Vec<usize>, n: usize| {
            (!ids.is_empty()).then(|| Grams::new(literals, &ids, stride, n))
        };
        Sampled {
            stride,
            eight: table(long, 8),
            four: table(short, 4),
            avx2: stride == 4 && has_avx2(),
        }
    }

    /// Reports the literals of these tables that occur in `text`.
    fn scan(&self, text: &[u8], found: &mut impl FnMut(usize)) {
        #[cfg(target_arch = "x86_64")]
        let mut at = if self.avx2 {
            // SAFETY: AVX2 was detected on this processor.
            unsafe { self.blocks_avx2(text, found) }
        } else {
            0
        };
        #[cfg(not(target_arch = "x86_64"))]
        let mut at = 0;
        while at + 4 <= text.len() {
            self.probe(text, at, found);
            at += self.stride;
        }
    }

    /// Tests the sample at `at` (at least 4 bytes from the end) against
    /// both tables.
    #[inline(always)]
    fn probe(&self, text: &[u8], at: usize, found: &mut impl FnMut(usize)) {
        let word = word(&text[at..]);
        if let Some(eight) = &self.eight {
            eight.probe(text, at, word, found);
        }
        if let Some(four) = &self.four {
            four.probe(text, at, word, found);
        }
    }

    /// Scans `text` with AVX2, eight samples (stride 4, 32 bytes) per
    /// step, while the bytes of a whole step are there; returns where it
    /// stopped. The step's low and high 4-byte halves of its eight
    /// 8-byte words are two loads, 4 bytes apart; the hashes are computed
    /// and the bitmaps read (gathered) for all eight at once, and only a
    /// step with a bit set is looked at again, sample by sample.
    ///
    /// # Safety
    ///
    /// The processor must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn blocks_avx2(
        &self,
        text: &[u8],
        found: &mut impl FnMut(usize),
    ) -> usize {
        use std::arch::x86_64::{
            __m128i, __m256i, _mm256_and_si256, _mm256_blendv_epi8,
            _mm256_broadcastsi128_si256, _mm256_castsi256_ps,
            _mm256_cmpeq_epi32, _mm256_i32gather_epi32, _mm256_loadu_si256,
            _mm256_movemask_ps, _mm256_mullo_epi32, _mm256_or_si256,
            _mm256_set1_epi32, _mm256_setr_epi8, _mm256_setzero_si256,
            _mm256_shuffle_epi8, _mm256_slli_epi32, _mm256_srli_epi32,
            _mm256_srlv_epi32, _mm256_xor_si256, _mm_loadu_si128,
        };
        let fold = _mm256_set1_epi32(FOLD as i32);
        let low_five = _mm256_set1_epi32(31);
        let (m_low, m_high, m_four) = (
            _mm256_set1_epi32(LOW as i32),
            _mm256_set1_epi32(HIGH as i32),
            _mm256_set1_epi32(FOUR as i32),
        );
        // 1 in each lane whose bit is set in `bitmap`, for hashes `h`.
        let test = |bitmap: &[u32; 1 << (BITS - 5)], h: __m256i| {
            // SAFETY: every index is h >> 5 < 2^(BITS - 5), inside the
            // bitmap; the other intrinsics only touch registers.
            let words = _mm256_i32gather_epi32::<4>(
                bitmap.as_ptr().cast::<i32>(),
                _mm256_srli_epi32::<5>(h),
            );
            let bits = _mm256_srlv_epi32(words, _mm256_and_si256(h, low_five));
            _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(
                bits,
            )))
        };
        // The small filters of the 4-gram table, each as its two 16-byte
        // halves repeated in both lanes (a byte shuffle reads within its
        // lane only).
        let halves = |filter: &[u8; 32]| {
            let low: &[u8; 16] = filter[..16].try_into().expect("16 bytes");
            let high: &[u8; 16] = filter[16..].try_into().expect("16 bytes");
            // SAFETY: each load reads exactly a 16-byte array.
            let load = |half: &[u8; 16]| {
                _mm256_broadcastsi128_si256(_mm_loadu_si128(
                    half.as_ptr().cast::<__m128i>(),
                ))
            };
            (load(low), load(high))
        };
        let four_filters = self
            .four
            .as_ref()
            .and_then(|four| four.small.as_ref())
            .map(|[first, second]| (halves(first), halves(second)));
        let powers = _mm256_setr_epi8(
            1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128, 1, 2,
            4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128,
        );
        let (seven, byte) = (_mm256_set1_epi32(7), _mm256_set1_epi32(0xFF));
        // Nonzero low byte in each lane whose index `x` (0 to 255, in the
        // lane's low byte) has its bit set in the filter (halves `t`).
        let member = |t: &(__m256i, __m256i), x: __m256i| {
            let index = _mm256_srli_epi32::<3>(x);
            let low = _mm256_shuffle_epi8(t.0, index);
            let high = _mm256_shuffle_epi8(t.1, index);
            // Bit 4 of the byte index, moved to bit 7, picks the half.
            let pick = _mm256_slli_epi32::<3>(index);
            let found = _mm256_blendv_epi8(low, high, pick);
            let bit = _mm256_shuffle_epi8(powers, _mm256_and_si256(x, seven));
            _mm256_and_si256(found, bit)
        };
        // Bit k set when lane k's hash passes both small filters.
        let filtered = |first: &(__m256i, __m256i),
                        second: &(__m256i, __m256i),
                        mixed: __m256i| {
            let top = _mm256_srli_epi32::<24>(mixed);
            let next = _mm256_and_si256(_mm256_srli_epi32::<16>(mixed), byte);
            // All ones in a lane that one of the filters rejects.
            let miss = |m: __m256i| {
                let m = _mm256_and_si256(m, byte);
                _mm256_cmpeq_epi32(m, _mm256_setzero_si256())
            };
            let empty = _mm256_or_si256(
                miss(member(first, top)),
                miss(member(second, next)),
            );
            !_mm256_movemask_ps(_mm256_castsi256_ps(empty)) & 0xFF
        };
        let mut at = 0;
        while at + 36 <= text.len() {
            let step: &[u8; 36] =
                text[at..at + 36].try_into().expect("36 bytes");
            // The loads read 32 of the array's 36 bytes, unaligned.
            let low = _mm256_or_si256(
                _mm256_loadu_si256(step.as_ptr().cast::<__m256i>()),
                fold,
            );
            let high = _mm256_or_si256(
                _mm256_loadu_si256(step[4..].as_ptr().cast::<__m256i>()),
                fold,
            );
            if let Some(eight) = &self.eight {
                let h = _mm256_srli_epi32::<{ 32 - BITS as i32 }>(
                    _mm256_xor_si256(
                        _mm256_mullo_epi32(low, m_low),
                        _mm256_mullo_epi32(high, m_high),
                    ),
                );
                eight.confirm(text, at, test(&eight.bitmap, h), found);
            }
            if let Some(four) = &self.four {
                let mixed = _mm256_mullo_epi32(low, m_four);
                let hits = match &four_filters {
                    Some((first, second)) => filtered(first, second, mixed),
                    None => test(
                        &four.bitmap,
                        _mm256_srli_epi32::<{ 32 - BITS as i32 }>(mixed),
                    ),
                };
                four.confirm(text, at, hits, found);
            }
            at += 32;
        }
        at
    }
}

impl Grams {
    /// The table of `n`-grams for the literals numbered `ids`, each at
    /// least `stride + n - 1` bytes long.
    fn new<L: AsRef<[u8]>>(
        literals: &[L],
        ids: &[usize],
        stride: usize,
        n: usize,
    ) -> Grams {
        let gram =
            |literal: &[u8], at: usize| word(&literal[at..at + n]) & keep(n);
        let mut shared: HashMap<u64, u32> = HashMap::new();
        for &id in ids {
            let literal = literals[id].as_ref();
            let mut words: Vec<u64> = (0..=literal.len() - n)
                .map(|at| gram(literal, at))
                .collect();
            words.sort_unstable();
            words.dedup();
            for word in words {
                *shared.entry(word).or_default() += 1;
            }
        }

        let mut grams: Vec<(u64, Entry)> = Vec::new();
        let mut lower = vec![Vec::new(); literals.len()];
        for &id in ids {
            let literal = literals[id].as_ref().to_ascii_lowercase();
            let start = window(&literal, stride, n, &shared);
            for offset in start..start + stride {
                let entry = Entry {
                    literal: id as u32,
                    offset: offset as u32,
                };
                grams.push((gram(&literal, offset), entry));
            }
            lower[id] = literal;
        }
        grams.sort_unstable();
        grams.dedup();

        let size = (grams.len().max(1) * 2).next_power_of_two();
        let mut table = Grams {
            n,
            bitmap: Box::new([0; 1 << (BITS - 5)]),
            slots: vec![Slot::default(); size],
            entries: grams.iter().map(|(_, e)| *e).collect(),
            literals: lower,
            small: None,
        };
        let mut filters = [[0u8; 32]; 2];
        let mut i = 0;
        while i < grams.len() {
            let word = grams[i].0;
            let count = grams[i..].iter().take_while(|g| g.0 == word).count();
            let h = hash(n, word);
            table.bitmap[h >> 5] |= 1 << (h & 31);
            let (top, next) = bytes(n, word);
            filters[0][top as usize >> 3] |= 1 << (top & 7);
            filters[1][next as usize >> 3] |= 1 << (next & 7);
            let mut s = table.slot(word);
            while table.slots[s].count != 0 {
                s = (s + 1) & (size - 1);
            }
            table.slots[s] = Slot {
                word,
                first: i as u32,
                count: count as u32,
            };
            i += count;
        }
        let distinct = table.slots.iter().filter(|s| s.count > 0).count();
        if distinct <= SMALL {
            table.small = Some(filters);
        }
        table
    }

    /// Tests the sample `word` read at `at` (8 bytes, see [`word`])
    /// against the table.
    #[inline(always)]
    fn probe(
        &self,
        text: &[u8],
        at: usize,
        word: u64,
        found: &mut impl FnMut(usize),
    ) {
        let word = word & keep(self.n);
        let h = hash(self.n, word);
        if self.bitmap[h >> 5] & (1 << (h & 31)) != 0 {
            self.verify(text, at, word, found);
        }
    }

    /// Verifies the samples of the step at `at` (stride 4) whose bits are
    /// set in `hits`, bit k for the sample at `at + 4 * k`.
    #[inline(always)]
    fn confirm(
        &self,
        text: &[u8],
        at: usize,
        mut hits: i32,
        found: &mut impl FnMut(usize),
    ) {
        while hits != 0 {
            let sample = at + 4 * hits.trailing_zeros() as usize;
            let word = word(&text[sample..]) & keep(self.n);
            self.verify(text, sample, word, found);
            hits &= hits - 1;
        }
    }

    /// The first slot to look at for `word`.
    #[inline(always)]
    fn slot(&self, word: u64) -> usize {
        (word.wrapping_mul(SLOT_MULTIPLIER) >> 32) as usize
            & (self.slots.len() - 1)
    }

    /// Compares in full every literal that the n-gram `word` read at `at`
    /// stands for.
    #[cold]
    fn verify(
        &self,
        text: &[u8],
        at: usize,
        word: u64,
        found: &mut impl FnMut(usize),
    ) {
        let mask = self.slots.len() - 1;
        let mut s = self.slot(word);
        let slot = loop {
            let slot = self.slots[s];
            if slot.count == 0 {
                return;
            }
            if slot.word == word {
                break slot;
            }
            s = (s + 1) & mask;
        };
        let first = slot.first as usize;
        for entry in &self.entries[first..first + slot.count as usize] {
            let Some(start) = at.checked_sub(entry.offset as usize) else {
                continue;
            };
            let literal = &self.literals[entry.literal as usize];
            let Some(there) = text.get(start..start + literal.len()) else {
                continue;
            };
            if there.eq_ignore_ascii_case(literal) {
                found(entry.literal as usize);
            }
        }
    }
}

/// The sample at the start of `bytes` (at least 4 of them) as a word: its
/// first eight bytes, zeros past the end, each present byte folded, read
/// little-endian. No n-gram of a literal inside the text has a zero byte
/// where a folded byte would be, so the padding never makes a match.
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    match bytes.get(..8) {
        Some(eight) => {
            u64::from_le_bytes(eight.try_into().expect("eight bytes")) | FOLD
        }
        None => {
            let mut padded = [0u8; 8];
            padded[..bytes.len()].copy_from_slice(bytes);
            let present = u64::MAX >> (64 - 8 * bytes.len());
            u64::from_le_bytes(padded) | (FOLD & present)
        }
    }
}

/// The mask keeping the first `n` bytes (4 or 8) of a word.
#[inline(always)]
fn keep(n: usize) -> u64 {
    u64::MAX >> (64 - 8 * n)
}

/// The 32-bit hash of an n-gram word: multiplicative hashing of its
/// 4-byte halves (the vector path computes the same).
#[inline(always)]
fn mix(n: usize, word: u64) -> u32 {
    let (low, high) = (word as u32, (word >> 32) as u32);
    match n {
        8 => low.wrapping_mul(LOW) ^ high.wrapping_mul(HIGH),
        _ => low.wrapping_mul(FOUR),
    }
}

/// The bitmap index of an n-gram word: the top bits of its hash.
#[inline(always)]
fn hash(n: usize, word: u64) -> usize {
    (mix(n, word) >> (32 - BITS)) as usize
}

/// The small filters' indexes of an n-gram word: the hash's top byte and
/// the byte below it.
#[inline(always)]
fn bytes(n: usize, word: u64) -> (u8, u8) {
    let h = mix(n, word);
    ((h >> 24) as u8, (h >> 16) as u8)
}

/// True when the processor has AVX2 (checked once, then cached by the
/// standard library).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Words and cmdlet names found in most PowerShell scripts, lower case:
/// an n-gram inside one of them is a poor stand-in for a literal, as the
/// scan would stop on it all the time (`port` of `-LocalPort` is in
/// `Import-Module`, `t-object` of `Get-ObjectAcl` in `Select-Object`).
const COMMON: [&[u8]; 64] = [
    b"select-object",
    b"where-object",
    b"foreach-object",
    b"sort-object",
    b"measure-object",
    b"group-object",
    b"new-object",
    b"get-childitem",
    b"get-item",
    b"new-item",
    b"remove-item",
    b"copy-item",
    b"move-item",
    b"get-itemproperty",
    b"set-itemproperty",
    b"test-path",
    b"join-path",
    b"get-content",
    b"set-content",
    b"out-file",
    b"out-null",
    b"out-string",
    b"write-host",
    b"write-output",
    b"write-verbose",
    b"write-warning",
    b"write-error",
    b"get-process",
    b"start-process",
    b"get-service",
    b"start-sleep",
    b"get-date",
    b"invoke-webrequest",
    b"invoke-restmethod",
    b"invoke-command",
    b"import-module",
    b"export-csv",
    b"import-csv",
    b"convertto-json",
    b"convertfrom-json",
    b"format-table",
    b"get-member",
    b"set-location",
    b"-erroraction silentlycontinue",
    b"-recurse -force",
    b"$env:computername",
    b"$env:username",
    b"[system.io.path]::",
    b"[system.collections.",
    b"[system.text.encoding]::",
    b"[string]",
    b"function",
    b"foreach",
    b"return $result",
    b"$false",
    b"$true",
    b"$null",
    b"parameter",
    b"configuration",
    b"information",
    b"connection",
    b"property",
    b"report",
    b"support",
];

/// The offset `k0` of the `stride` n-grams that stand for `literal`
/// (lower case, at least `stride + n - 1` bytes): the window whose
/// n-grams are the least shared with the table's other literals (`shared`
/// counts the literals holding each: `get-` or `obje`, common to many
/// cmdlet names, are as common in script text) and with the fewest in
/// [`COMMON`] words, then of the rarest bytes, so that the scan stops on
/// it as seldom as possible.
fn window(
    literal: &[u8],
    stride: usize,
    n: usize,
    shared: &HashMap<u64, u32>,
) -> usize {
    let score = |k: usize| -> u64 {
        (k..k + stride)
            .map(|at| {
                let gram = word(&literal[at..at + n]) & keep(n);
                let others = shared.get(&gram).map_or(0, |c| c - 1);
                let text = &literal[at..at + n];
                let words = COMMON
                    .iter()
                    .filter(|w| w.windows(n).any(|g| g == text))
                    .count() as u64;
                let bytes: u32 = text.iter().map(|&b| commonness(b)).sum();
                (words + u64::from(others)) * 1000 + u64::from(bytes)
            })
            .sum()
    };
    (0..=literal.len() - (stride + n - 1))
        .min_by_key(|&k| score(k))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// The literals that occur in `text`, the obvious way, as the oracle.
    fn naive(literals: &[Vec<u8>], text: &[u8]) -> Vec<usize> {
        (0..literals.len())
            .filter(|&id| {
                let l = &literals[id];
                l.is_empty()
                    || text.windows(l.len()).any(|w| w.eq_ignore_ascii_case(l))
            })
            .collect()
    }

    /// The literals `set` reports for `text`, each once, ascending.
    fn found(set: &LiteralSet, text: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        set.scan(text, &mut |id| out.push(id));
        out.sort_unstable();
        out.dedup();
        out
    }

    fn bytes(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    /// The numbers of the literals a table stands for, ascending.
    fn members(table: &Option<Grams>) -> Vec<usize> {
        let mut ids: Vec<usize> = table
            .iter()
            .flat_map(|t| t.entries.iter().map(|e| e.literal as usize))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The set, and the same set with each faster path turned off in
    /// turn: no AVX2 (the plain loop), no small filters (the 4-gram table
    /// read through the bitmap).
    fn variants(set: LiteralSet) -> Vec<LiteralSet> {
        let mut plain = set.clone();
        let mut bitmap = set.clone();
        if let Some(sampled) = &mut plain.sampled {
            sampled.avx2 = false;
        }
        if let Some(four) =
            bitmap.sampled.as_mut().and_then(|s| s.four.as_mut())
        {
            four.small = None;
        }
        vec![set, plain, bitmap]
    }

    #[test]
    fn classes_by_length() {
        // 12 literals. Stride 4 leaves 4 literals under 7 bytes, at most
        // FEW: they get finders, and so do the 2 under 4 bytes (6 in
        // all). Of the sampled ones, 3 have at least 11 bytes (8-grams),
        // 3 have 7 to 10 (4-grams).
        let literals = bytes(&[
            "Get-NetTcpconnection",
            "Invoke-Mimikatz",
            "sekurlsa::logonpasswords",
            "quser /x",
            "Remove-",
            "logoff 2",
            "wmic",
            "copy",
            "quser",
            "rmdir ",
            "md5",
            "-c",
        ]);
        let set = LiteralSet::new(&literals).unwrap();
        let sampled = set.sampled.as_ref().unwrap();
        assert_eq!(sampled.stride, 4);
        assert_eq!(members(&sampled.eight), vec![0, 1, 2]);
        assert_eq!(members(&sampled.four), vec![3, 4, 5]);
        assert!(sampled.four.as_ref().unwrap().small.is_some());
        assert_eq!(set.singles.len(), 6);
        assert!(set.automaton.is_none());
        let text = b"$x = GET-NETTCPCONNECTION; Invoke-MimiKatz; Remove-Item \
                     x; wmic /node; MD5; quser /X";
        for set in variants(set) {
            assert_eq!(found(&set, text), vec![0, 1, 3, 4, 6, 8, 10]);
        }
    }

    #[test]
    fn many_short_literals_are_sampled_or_automaton() {
        // 8 literals of 4 to 6 bytes and 7 of 3. Stride 4 would leave all
        // 8 to finders, past FEW; stride 2 leaves the two of 4 bytes.
        // The 7 under 4 bytes, with those 2 past FEW, go to the automaton.
        let literals = bytes(&[
            "quser", "rmdir ", "delete", "remove", "wmic", "copy", "image",
            "where", "sha", "md5", "-cn", "iex", "irm", "gci", "gps",
        ]);
        let set = LiteralSet::new(&literals).unwrap();
        let sampled = set.sampled.as_ref().unwrap();
        assert_eq!(sampled.stride, 2);
        assert!(sampled.eight.is_none());
        assert_eq!(members(&sampled.four), vec![0, 1, 2, 3, 6, 7]);
        let singles: Vec<usize> = set.singles.iter().map(|s| s.0).collect();
        assert_eq!(singles, vec![4, 5]);
        assert_eq!(
            set.automaton.as_ref().unwrap().1,
            vec![8, 9, 10, 11, 12, 13, 14]
        );
        let text = b"IEX (iwr x); Remove-Item; wmiC; SHA256; gc";
        assert_eq!(found(&set, text), vec![3, 4, 8, 11]);
    }

    #[test]
    fn a_full_small_filter_falls_back_to_the_bitmap() {
        // 20 literals of 8 bytes with no 4-gram in common: 5 4-grams
        // each, 4 of them in the table, 80 in all, more than SMALL.
        let literals: Vec<Vec<u8>> = (0..20)
            .map(|i| format!("q{i:02}z{i:02}yx").into_bytes())
            .collect();
        let set = LiteralSet::new(&literals).unwrap();
        let four = set.sampled.as_ref().unwrap().four.as_ref().unwrap();
        assert!(four.small.is_none());
        let mut text = vec![b'.'; 70];
        text[41..49].copy_from_slice(&literals[7].to_ascii_uppercase());
        for set in variants(set) {
            assert_eq!(found(&set, &text), vec![7]);
        }
    }

    #[test]
    fn a_literal_is_found_at_every_offset_of_the_stride() {
        // Every start position modulo 8 and modulo 4, in both cases, at
        // the very start and the very end of the text, and with every
        // single byte of the literal changed (a near miss).
        let literals = bytes(&[
            "Get-NetTcpconnection",
            "Invoke-Mimikatz",
            "sekurlsa::pth",
            "Add-Type",
            "-Uri x",
            "quser!",
            "iex(",
            "abc",
            "xy",
            "q",
            "Enable-PSRemoting",
            "Set-MpPreference",
        ]);
        for set in variants(LiteralSet::new(&literals).unwrap()) {
            for (id, literal) in literals.iter().enumerate() {
                for before in 0..20 {
                    for after in [0, 1, 5] {
                        let mut text = vec![b'.'; before];
                        text.extend(literal.to_ascii_uppercase());
                        text.extend(vec![b'.'; after]);
                        assert!(found(&set, &text).contains(&id), "{text:?}");
                        assert_eq!(
                            found(&set, &text),
                            naive(&literals, &text)
                        );
                        for i in before..before + literal.len() {
                            let mut near = text.clone();
                            near[i] = b'\r';
                            assert_eq!(
                                found(&set, &near),
                                naive(&literals, &near),
                                "{near:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_stride_and_path_finds_literals_at_every_offset_and_length() {
        // One set per path: stride 4 with both tables (texts of 36 bytes
        // and more take the AVX2 step), stride 2, stride 1, and stride 1
        // with the automaton for literals under 4 bytes. Each literal is
        // put at every offset 0 to 43 of texts of every length up to 80,
        // upper case and with the first byte's case swapped, in filler
        // that folds onto literal bytes (`\r` is `-` after | 0x20) or is
        // not ASCII; the oracle is the obvious search.
        let sets: Vec<(usize, bool, Vec<Vec<u8>>)> = vec![
            (
                4,
                false,
                bytes(&[
                    "Get-NetTcpconnection",
                    "abcdefghijk",
                    "bcdefghij",
                    "xyzzy-q\r",
                    "ab-\rab-\r",
                    "q\0wertyu",
                    "\u{e9}-mixed",
                ]),
            ),
            (
                2,
                false,
                bytes(&[
                    "abcd",
                    "bcde",
                    "cdef",
                    "defg",
                    "efgh",
                    "fghi",
                    "ghijk",
                    "\r-\r-x",
                    "hijkl",
                    "abcdefghijklmno",
                ]),
            ),
            (
                1,
                false,
                bytes(&[
                    "abcd",
                    "bcde",
                    "cdef",
                    "defg",
                    "efgh",
                    "fghi",
                    "ghij",
                    "-\r-\r",
                    "abcdefgh",
                    "\u{e9}\u{e9}",
                ]),
            ),
            (
                1,
                true,
                bytes(&[
                    "abcd", "bcde", "cdef", "defg", "efgh", "fghi", "ghij",
                    "ab", "b-", "c\r", "x", "\u{e9}", "ghi", "fg", "zz",
                ]),
            ),
        ];
        let filler = b"..\r-\xc3\xa9\xff\0a";
        for (stride, automaton, literals) in sets {
            let set = LiteralSet::new(&literals).unwrap();
            assert_eq!(set.sampled.as_ref().map(|s| s.stride), Some(stride));
            assert_eq!(set.automaton.is_some(), automaton);
            for set in variants(set) {
                for literal in &literals {
                    for before in 0..44 {
                        for len in before + literal.len()..=80 {
                            let mut text: Vec<u8> = (0..len)
                                .map(|i| filler[(i * 7 + len) % filler.len()])
                                .collect();
                            let mut upper = literal.to_ascii_uppercase();
                            text[before..before + literal.len()]
                                .copy_from_slice(&upper);
                            assert_eq!(
                                found(&set, &text),
                                naive(&literals, &text),
                                "{text:?}"
                            );
                            upper[0] ^= 0x20
                                * u8::from(upper[0].is_ascii_alphabetic());
                            text[before..before + literal.len()]
                                .copy_from_slice(&upper);
                            assert_eq!(
                                found(&set, &text),
                                naive(&literals, &text),
                                "{text:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Literals from a small alphabet, so that texts built from the same
    /// alphabet hit them often, partly and in overlaps.
    fn literal() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'B'), Just(b'-'), Just(b'\r')],
            1..16,
        )
    }

    /// Literals of 7 to 20 bytes from a small alphabet: stride 4, both
    /// tables, the vector path on texts of 36 bytes or more.
    fn sampled_literal() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'B'), Just(b'-'), Just(b'\r')],
            7..20,
        )
    }

    proptest! {
        #[test]
        fn the_vector_path_agrees_with_the_obvious_search(
            literals in proptest::collection::vec(sampled_literal(), 7..30),
            text in proptest::collection::vec(
                prop_oneof![
                    Just(b'a'), Just(b'A'), Just(b'b'), Just(b'B'),
                    Just(b'-'), Just(b'\r'), Just(b'M')
                ],
                0..400,
            ),
        ) {
            let set = LiteralSet::new(&literals).unwrap();
            prop_assert_eq!(set.sampled.as_ref().map(|s| s.stride), Some(4));
            let expected = naive(&literals, &text);
            for set in variants(set) {
                prop_assert_eq!(found(&set, &text), expected.clone());
            }
        }

        #[test]
        fn agrees_with_the_obvious_search(
            literals in proptest::collection::vec(literal(), 0..40),
            text in proptest::collection::vec(
                prop_oneof![
                    Just(b'a'), Just(b'A'), Just(b'b'), Just(b'B'),
                    Just(b'-'), Just(b'\r'), Just(b'M'), Just(0xC3)
                ],
                0..200,
            ),
        ) {
            let expected = naive(&literals, &text);
            for set in variants(LiteralSet::new(&literals).unwrap()) {
                prop_assert_eq!(found(&set, &text), expected.clone());
            }
        }
    }
}
