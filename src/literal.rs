//! A fast ASCII case-insensitive substring search for one literal.
//!
//! Script block texts are long and full of the letters a PowerShell
//! literal starts with (`Get-...` everywhere), so a searcher that stops at
//! every `g` spends its time in false starts. This one looks at two bytes
//! of the literal at once, the two rarest by a fixed frequency ranking, at
//! their offsets in the literal: only a position where both agree (letter
//! case ignored) is a candidate, and only a candidate is compared in full.
//! The two-byte test runs over 32 positions at a time with AVX2 vector
//! compares where the processor has them, 16 with SSE2 otherwise (a plain
//! loop off x86_64).
//!
//! Case folding is `byte | 0x20` on both sides: two bytes that are equal
//! ignoring ASCII case are equal after it (case variants differ in that bit
//! only), so the test never misses a match; the bytes it lets through
//! wrongly (`\r` and `-` are equal after it) fail the full comparison.

/// A compiled literal.
#[derive(Clone, Debug)]
pub struct Finder {
    /// The literal as given.
    needle: Vec<u8>,
    /// Offset of the first probe byte in the literal.
    first: usize,
    /// Offset of the second probe byte in the literal.
    second: usize,
    /// The first probe byte, folded.
    first_byte: u8,
    /// The second probe byte, folded.
    second_byte: u8,
    /// True when the processor has AVX2 (32 positions per step).
    avx2: bool,
}

/// Positions tested per step of the vector loop.
const LANES: usize = 16;

impl Finder {
    /// A finder for `needle`.
    pub fn new(needle: &[u8]) -> Finder {
        let (first, second) = probes(needle);
        Finder {
            needle: needle.to_vec(),
            first,
            second,
            first_byte: needle.get(first).map_or(0, |b| b | 0x20),
            second_byte: needle.get(second).map_or(0, |b| b | 0x20),
            avx2: has_avx2(),
        }
    }

    /// The literal's length.
    pub fn len(&self) -> usize {
        self.needle.len()
    }

    /// True for the empty literal.
    pub fn is_empty(&self) -> bool {
        self.needle.is_empty()
    }

    /// Offset of the leftmost occurrence of the literal in `haystack`,
    /// ASCII letter case ignored.
    pub fn find(&self, haystack: &[u8]) -> Option<usize> {
        let n = self.needle.len();
        if n == 0 {
            return Some(0);
        }
        if haystack.len() < n {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: AVX2 was detected on this processor.
            return unsafe { self.find_avx2(haystack) };
        }
        self.find_from(haystack, 0)
    }

    /// `find` for a haystack at least as long as the literal, from start
    /// position `at` on, 16 positions per step.
    fn find_from(&self, haystack: &[u8], mut at: usize) -> Option<usize> {
        let starts = haystack.len() - self.needle.len() + 1;
        while at + LANES <= starts {
            let a: &[u8; LANES] = haystack[at + self.first..][..LANES]
                .try_into()
                .expect("LANES bytes");
            let b: &[u8; LANES] = haystack[at + self.second..][..LANES]
                .try_into()
                .expect("LANES bytes");
            let mut mask = self.candidates(a, b);
            while mask != 0 {
                let start = at + mask.trailing_zeros() as usize;
                if self.is_at(haystack, start) {
                    return Some(start);
                }
                mask &= mask - 1;
            }
            at += LANES;
        }
        (at..starts).find(|&start| self.is_at(haystack, start))
    }

    /// Bit k set when position k of the block passes the two-byte test;
    /// `a` and `b` are the block shifted by the two probe offsets. SSE2 is
    /// part of every x86_64 processor, so no feature check is needed.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn candidates(&self, a: &[u8; LANES], b: &[u8; LANES]) -> u32 {
        use std::arch::x86_64::{
            __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128,
            _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: both loads read exactly the 16 bytes of an array, with
        // the unaligned load; the other intrinsics only touch registers.
        unsafe {
            let fold = _mm_set1_epi8(0x20);
            let a = _mm_loadu_si128(a.as_ptr().cast::<__m128i>());
            let b = _mm_loadu_si128(b.as_ptr().cast::<__m128i>());
            let first = _mm_set1_epi8(self.first_byte as i8);
            let second = _mm_set1_epi8(self.second_byte as i8);
            let hit_a = _mm_cmpeq_epi8(_mm_or_si128(a, fold), first);
            let hit_b = _mm_cmpeq_epi8(_mm_or_si128(b, fold), second);
            _mm_movemask_epi8(_mm_and_si128(hit_a, hit_b)) as u32
        }
    }

    /// The same test, one position at a time, where SSE2 is not there.
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn candidates(&self, a: &[u8; LANES], b: &[u8; LANES]) -> u32 {
        let mut mask = 0u32;
        for k in 0..LANES {
            let hit = ((a[k] | 0x20) == self.first_byte)
                & ((b[k] | 0x20) == self.second_byte);
            mask |= (hit as u32) << k;
        }
        mask
    }

    /// `find` with AVX2, 32 positions per step, for a haystack at least as
    /// long as the literal; the last positions go to `find_from`.
    ///
    /// # Safety
    ///
    /// The processor must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn find_avx2(&self, haystack: &[u8]) -> Option<usize> {
        use std::arch::x86_64::{
            __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
            _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        };
        let starts = haystack.len() - self.needle.len() + 1;
        let fold = _mm256_set1_epi8(0x20);
        let first = _mm256_set1_epi8(self.first_byte as i8);
        let second = _mm256_set1_epi8(self.second_byte as i8);
        let mut at = 0;
        while at + 32 <= starts {
            let a: &[u8; 32] = haystack[at + self.first..][..32]
                .try_into()
                .expect("32 bytes");
            let b: &[u8; 32] = haystack[at + self.second..][..32]
                .try_into()
                .expect("32 bytes");
            // The loads read exactly the 32 bytes of an array, unaligned.
            let a = _mm256_loadu_si256(a.as_ptr().cast::<__m256i>());
            let b = _mm256_loadu_si256(b.as_ptr().cast::<__m256i>());
            let hit_a = _mm256_cmpeq_epi8(_mm256_or_si256(a, fold), first);
            let hit_b = _mm256_cmpeq_epi8(_mm256_or_si256(b, fold), second);
            let mut mask =
                _mm256_movemask_epi8(_mm256_and_si256(hit_a, hit_b)) as u32;
            while mask != 0 {
                let start = at + mask.trailing_zeros() as usize;
                if self.is_at(haystack, start) {
                    return Some(start);
                }
                mask &= mask - 1;
            }
            at += 32;
        }
        self.find_from(haystack, at)
    }

    /// True when the literal occurs at `start` (which leaves room for it).
    #[inline]
    fn is_at(&self, haystack: &[u8], start: usize) -> bool {
        haystack[start..start + self.needle.len()]
            .eq_ignore_ascii_case(&self.needle)
    }
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

/// The offsets of the two rarest bytes of `needle` (the same offset twice
/// for a one-byte literal).
fn probes(needle: &[u8]) -> (usize, usize) {
    let mut order: Vec<usize> = (0..needle.len()).collect();
    order.sort_by_key(|&i| (commonness(needle[i]), i));
    let first = order.first().copied().unwrap_or(0);
    let second = order
        .iter()
        .copied()
        .find(|&i| !needle[i].eq_ignore_ascii_case(&needle[first]))
        .or(order.get(1).copied())
        .unwrap_or(first);
    (first.min(second), first.max(second))
}

/// How common a byte is in script text, higher for more common: a fixed
/// ranking (English letter frequency; spaces, line breaks and the
/// punctuation of PowerShell command lines counted as very common).
pub(crate) fn commonness(byte: u8) -> u32 {
    const LETTERS: &[u8] = b"zqjxkvbpgwyfmculdhrsnioate";
    let lower = byte.to_ascii_lowercase();
    if let Some(rank) = LETTERS.iter().position(|&l| l == lower) {
        return 10 + rank as u32;
    }
    match byte {
        b' ' | b'\n' | b'\r' | b'\t' => 60,
        b'-' | b'$' | b'.' | b'\'' | b'"' | b'(' | b')' | b'|' => 50,
        b'0'..=b'9' => 20,
        0x80..=0xFF => 5,
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious search, as the oracle.
    fn naive(needle: &[u8], haystack: &[u8]) -> Option<usize> {
        if needle.is_empty() {
            return Some(0);
        }
        haystack
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
    }

    #[test]
    fn finds_the_leftmost_match_ignoring_ascii_case() {
        let f = Finder::new(b"Get-NetTcpconnection");
        let hay = b"Get-NetTCPSetting; get-NETTCPconnection -State; \
                    Get-NetTcpConnection";
        assert_eq!(f.find(hay), Some(19));
        assert_eq!(f.find(b"Get-NetTcp connection"), None);
        assert_eq!(f.find(b"GET-NETTCPCONNECTION"), Some(0));
        assert_eq!(f.find(b"GET-NETTCPCONNECTIO"), None);
    }

    /// Both vector paths: AVX2 where the processor has it, and SSE2.
    fn finders(needle: &[u8]) -> Vec<Finder> {
        let with = Finder::new(needle);
        let without = Finder {
            avx2: false,
            ..with.clone()
        };
        vec![with, without]
    }

    #[test]
    fn agrees_with_the_obvious_search_everywhere() {
        // Matches at every offset around the 16-position blocks, near
        // misses on each probe byte, \r against '-', non-ASCII bytes.
        let needles: [&[u8]; 6] = [
            b"Get-NetTcpconnection",
            b"a",
            b"-",
            b"ab",
            "ü".as_bytes(),
            b"",
        ];
        for (needle, f) in needles
            .iter()
            .flat_map(|n| finders(n).into_iter().map(move |f| (*n, f)))
        {
            for len in 0..80 {
                for at in 0..len {
                    let mut hay = vec![b'x'; len];
                    hay[at] = b'\r';
                    if at + needle.len() <= len {
                        hay[at..at + needle.len()].copy_from_slice(needle);
                        hay[at] = hay[at].to_ascii_uppercase();
                    }
                    assert_eq!(f.find(&hay), naive(needle, &hay), "{hay:?}");
                    let mut near = hay.clone();
                    if let Some(b) = near.get_mut(at + needle.len() / 2) {
                        *b = b'\r';
                    }
                    assert_eq!(f.find(&near), naive(needle, &near));
                }
            }
        }
    }

    #[test]
    fn non_ascii_letters_do_not_fold() {
        let f = Finder::new("Ж".as_bytes());
        assert_eq!(f.find("ж".as_bytes()), None);
        assert_eq!(f.find("aЖ".as_bytes()), Some(1));
    }

    #[test]
    fn probes_are_the_rarest_distinct_bytes() {
        // p and g are the rarest letters of the literal.
        let (a, b) = probes(b"Get-NetTcpconnection");
        assert_eq!((a, b), (0, 9));
    }
}
