//! The order in which values are compared: by `stats` for `min`/`max`, and
//! for sorting the result rows.
//!
//! Splunk sorts stats output "naturally": numbers numerically, everything
//! else lexicographically (limits.conf `[stats] natural_sort_output`,
//! default true). How numbers and non-numbers mix is not documented; here
//! numbers come first, as in most natural sorts (an assumption, see the
//! README). A comparator that compares numerically only when both sides are
//! numbers and by bytes otherwise is not transitive (`2 < 10`, `10 < 1a`,
//! `1a < 2`), and Rust's sort may panic on such a comparator, so this one is
//! a total order: (is not a number, numeric value, bytes).

use std::cmp::Ordering;

/// A value's sort key: its numeric value when it is a number.
#[derive(Clone, Copy, Debug)]
pub struct Key<'a> {
    /// The number the value spells, if it is a decimal number.
    number: Option<f64>,
    /// The value's bytes.
    bytes: &'a [u8],
}

impl<'a> Key<'a> {
    /// The key of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Key<'a> {
        Key {
            number: number(bytes),
            bytes,
        }
    }

    /// The key of `bytes` whose number was parsed already.
    pub fn with_number(number: Option<f64>, bytes: &'a [u8]) -> Key<'a> {
        Key { number, bytes }
    }
}

impl Ord for Key<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.number, other.number) {
            (Some(a), Some(b)) => {
                a.total_cmp(&b).then_with(|| self.bytes.cmp(other.bytes))
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.bytes.cmp(other.bytes),
        }
    }
}

impl PartialOrd for Key<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key<'_> {}

/// Compares two values in the total order.
pub fn compare(a: &[u8], b: &[u8]) -> Ordering {
    Key::new(a).cmp(&Key::new(b))
}

/// The value of `bytes` if it is a decimal number:
/// `[+-]?(digits[.digits?] | .digits)([eE][+-]?digits)?`, nothing else
/// around it. Splunk holds numbers as doubles, so an f64 is the right
/// precision.
pub fn number(bytes: &[u8]) -> Option<f64> {
    let mut i = 0;
    let at = |i: usize| bytes.get(i).copied();
    if matches!(at(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while matches!(at(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    let mut digits = i - int_start;
    if at(i) == Some(b'.') {
        i += 1;
        let frac_start = i;
        while matches!(at(i), Some(b'0'..=b'9')) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if matches!(at(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while matches!(at(i), Some(b'0'..=b'9')) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(b"4104"), Some(4104.0));
        assert_eq!(number(b"1629817860.123"), Some(1629817860.123));
        assert_eq!(number(b"-2"), Some(-2.0));
        assert_eq!(number(b".5"), Some(0.5));
        assert_eq!(number(b"5."), Some(5.0));
        assert_eq!(number(b"1e3"), Some(1000.0));
        for not in [&b""[..], b".", b"-", b"1a", b" 1", b"1 ", b"0x10", b"1e"]
        {
            assert_eq!(number(not), None, "{:?}", not);
        }
    }

    #[test]
    fn numbers_numerically_then_strings_by_bytes() {
        let mut values =
            vec![&b"10"[..], b"1a", b"2", b"B", b"a", b"812", b"5336", b"010"];
        values.sort_by(|a, b| compare(a, b));
        assert_eq!(
            values,
            vec![&b"2"[..], b"010", b"10", b"812", b"5336", b"1a", b"B", b"a"]
        );
    }

    #[test]
    fn would_cycle_under_a_pairwise_rule() {
        // 2 < 10 numerically, 10 < 1a by bytes, 1a < 2 by bytes: a pairwise
        // rule cycles. The total order puts both numbers first.
        assert_eq!(compare(b"2", b"10"), Ordering::Less);
        assert_eq!(compare(b"10", b"1a"), Ordering::Less);
        assert_eq!(compare(b"2", b"1a"), Ordering::Less);
        let mut values = vec![&b"1a"[..], b"10", b"2"];
        values.sort_by(|a, b| compare(a, b));
        assert_eq!(values, vec![&b"2"[..], b"10", b"1a"]);
    }

    proptest::proptest! {
        /// `stats` merges filled groups by sorting them and comparing
        /// neighbours, which needs `Equal` to mean equal bytes: numbers
        /// equal in value ("1", "1.0", "01", "+1", "1e0") still differ.
        #[test]
        fn equal_only_for_equal_bytes(
            a in "[-+]?[0-9]{0,2}([.][0-9]{0,2})?(e[0-9])?",
            b in "[-+]?[0-9]{0,2}([.][0-9]{0,2})?(e[0-9])?",
        ) {
            let equal = compare(a.as_bytes(), b.as_bytes()).is_eq();
            proptest::prop_assert_eq!(equal, a == b);
        }
    }

    #[test]
    fn numeric_ties_fall_back_to_bytes() {
        assert_eq!(compare(b"1.0", b"1"), Ordering::Greater);
        assert_eq!(compare(b"1", b"1"), Ordering::Equal);
    }
}
