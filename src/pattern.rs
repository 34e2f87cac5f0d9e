//! Splunk `search` wildcards on one field value.
//!
//! `field="*Get-NetTcpconnection*"` in SPL tests the whole value (anchored)
//! against a pattern in which `*` matches any run of characters, including
//! none and including newlines; the test is case-insensitive (Splunk search
//! manual, "Use CASE() and TERM()"; only ASCII letters fold here, non-ASCII
//! folding is not established). Every other character is literal.
//!
//! The matcher splits the pattern at its stars into literal segments. The
//! first segment must start the value, the last must end it, and the middle
//! ones must occur in order in between. Taking the leftmost occurrence of
//! each middle segment is always right for star-only patterns, so one left
//! to right pass decides: time is linear in the value's length whatever the
//! pattern, and no backtracking can explode.

use crate::literal::Finder;

/// One compiled wildcard.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// The pattern as given.
    text: String,
    /// Literal before the first star (the whole pattern if it has none).
    head: Vec<u8>,
    /// Literal after the last star; `None` when the pattern has no star.
    tail: Option<Vec<u8>>,
    /// Searchers for the non-empty literals between stars, in order.
    middle: Vec<Finder>,
    /// Length of each middle literal, in the same order.
    middle_len: Vec<usize>,
}

impl Pattern {
    /// Compiles a wildcard pattern.
    pub fn new(text: &str) -> Pattern {
        let parts: Vec<&[u8]> =
            text.as_bytes().split(|&b| b == b'*').collect();
        let head = parts[0].to_vec();
        let (tail, inner) = if parts.len() == 1 {
            (None, &[][..])
        } else {
            (
                Some(parts[parts.len() - 1].to_vec()),
                &parts[1..parts.len() - 1],
            )
        };
        let inner: Vec<&[u8]> =
            inner.iter().copied().filter(|p| !p.is_empty()).collect();
        let middle = inner.iter().map(|lit| Finder::new(lit)).collect();
        let middle_len = inner.iter().map(|lit| lit.len()).collect();
        Pattern {
            text: text.to_string(),
            head,
            tail,
            middle,
            middle_len,
        }
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The literal pieces of the pattern (the text between stars), for
    /// building prefilters.
    pub fn literals(&self) -> Vec<&[u8]> {
        let parts = self.text.as_bytes().split(|&b| b == b'*');
        parts.filter(|p| !p.is_empty()).collect()
    }

    /// True when the whole `value` matches.
    pub fn is_match(&self, value: &[u8]) -> bool {
        let Some(tail) = &self.tail else {
            return value.eq_ignore_ascii_case(&self.head);
        };
        if value.len() < self.head.len() + tail.len() {
            return false;
        }
        let (start, rest) = value.split_at(self.head.len());
        if !start.eq_ignore_ascii_case(&self.head) {
            return false;
        }
        let (mut inner, end) = rest.split_at(rest.len() - tail.len());
        if !end.eq_ignore_ascii_case(tail) {
            return false;
        }
        for (searcher, len) in self.middle.iter().zip(&self.middle_len) {
            match searcher.find(inner) {
                Some(start) => inner = &inner[start + len..],
                None => return false,
            }
        }
        true
    }
}

/// Several patterns: a value matches when any of them does.
#[derive(Clone, Debug)]
pub struct PatternSet {
    /// The patterns, in the order given.
    patterns: Vec<Pattern>,
}

impl PatternSet {
    /// Compiles every pattern.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> PatternSet {
        PatternSet {
            patterns: patterns
                .iter()
                .map(|p| Pattern::new(p.as_ref()))
                .collect(),
        }
    }

    /// True when any pattern matches the whole `value`.
    pub fn is_match(&self, value: &[u8]) -> bool {
        self.patterns.iter().any(|p| p.is_match(value))
    }

    /// The compiled patterns.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, value: &str) -> bool {
        Pattern::new(pattern).is_match(value.as_bytes())
    }

    #[test]
    fn contains_is_case_insensitive() {
        let p = "*Get-NetTcpconnection*";
        assert!(m(p, "Get-NetTCPConnection -State Listen"));
        assert!(m(p, "$c = get-nettcpconnection; $c.Count"));
        assert!(m(p, "GET-NETTCPCONNECTION"));
        assert!(!m(p, "Get-Net`TCPConnection"));
        assert!(!m(p, "& ('Get-NetTcp'+'Connection')"));
        assert!(!m(p, "Get-NetT"));
    }

    #[test]
    fn star_crosses_newlines() {
        assert!(m("*Get-NetTcpconnection*", "a\r\nGet-NetTCPConnection\n"));
        assert!(m("a*b", "a\n\nb"));
    }

    #[test]
    fn anchored_whole_value() {
        assert!(m("abc", "ABC"));
        assert!(!m("abc", "abcd"));
        assert!(!m("abc", "xabc"));
        assert!(m("ab*", "abxyz"));
        assert!(!m("ab*", "xab"));
        assert!(m("*ab", "xxab"));
        assert!(!m("*ab", "abx"));
        assert!(m("*", ""));
        assert!(m("**", "anything"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn head_and_tail_cannot_overlap() {
        assert!(!m("ab*ba", "aba"));
        assert!(m("ab*ba", "abba"));
        assert!(m("a*a", "aa"));
        assert!(!m("a*a", "a"));
    }

    #[test]
    fn middle_segments_in_order() {
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxcxxbxxaxx"));
        assert!(m("x*ab*ab*y", "xabaaby"));
        assert!(!m("x*ab*ab*y", "xaby"));
    }

    #[test]
    fn non_ascii_is_literal() {
        assert!(m("*ท*", "ทt"));
        assert!(m("*T", "ทt"));
        assert!(!m("*Ж*", "ж"));
    }

    #[test]
    fn any_pattern_of_a_set() {
        let set = PatternSet::new(&["*Certify*", "*Invoke-*"]);
        assert!(set.is_match(b"[certify.Program]::Main()"));
        assert!(set.is_match(b"invoke-expression"));
        assert!(!set.is_match(b"Get-Process"));
    }

    #[test]
    fn literals_for_prefilters() {
        let p = Pattern::new("*a**bc*");
        assert_eq!(p.literals(), vec![&b"a"[..], b"bc"]);
    }
}
