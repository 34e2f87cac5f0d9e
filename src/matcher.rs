//! Many conditions over one field, decided together.
//!
//! Running the ESCU hunts one after another would test each script block
//! against some 250 distinct wildcards (and many more, counting repeats). Instead every literal of every wildcard (the
//! text between the stars) goes into one Aho-Corasick automaton, ASCII
//! case-insensitive, and one overlapping scan of a value tells which
//! literals occur in it. A wildcard can only match when all its literals
//! occur, so that scan decides most of them outright:
//!
//! * a wildcard with a literal missing is false, without looking further;
//! * a wildcard `*literal*` is true as soon as its literal occurs;
//! * any other wildcard whose literals all occur (`*a*b*`, `a*`, `*a`,
//!   `exact`) gets its full check, [`Pattern::is_match`], at most once per
//!   value;
//! * a wildcard without literals (`*`) is checked on every value.
//!
//! Only the conditions that use a wildcard found true are evaluated; the
//! others take the value they have when no wildcard matches, computed once
//! at the start (false, unless the condition is a `NOT` of something).
//!
//! Everything is linear in the value's length: one scan, which reports
//! each occurrence of each literal once, plus one linear full check per
//! distinct wildcard at most. Nothing backtracks.
//!
//! A field with several values matches a wildcard when any value does
//! (semantics notes §2.4), so the wildcards' results of one event are the
//! OR over its values, and the conditions are decided once per event.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::condition::{Condition, Node};
use crate::literal::Finder;
use crate::pattern::Pattern;

/// What the literal scan says about one wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// `*literal*`: true when its one literal occurs.
    Contains,
    /// True only after a full check, once all its literals occur.
    Full,
}

/// A condition with its leaves replaced by wildcard numbers.
#[derive(Clone, Debug)]
enum Expr {
    /// The wildcard with this number.
    Leaf(usize),
    /// Negation.
    Not(Box<Expr>),
    /// Conjunction.
    And(Vec<Expr>),
    /// Disjunction.
    Or(Vec<Expr>),
}

impl Expr {
    /// The value of the expression given each wildcard's result.
    fn eval(&self, truth: &[bool]) -> bool {
        match self {
            Expr::Leaf(p) => truth[*p],
            Expr::Not(inner) => !inner.eval(truth),
            Expr::And(children) => children.iter().all(|c| c.eval(truth)),
            Expr::Or(children) => children.iter().any(|c| c.eval(truth)),
        }
    }
}

/// The compiled conditions and the state of the event being decided.
pub struct Matcher {
    /// The distinct wildcards (case-insensitively distinct).
    patterns: Vec<Pattern>,
    /// How each wildcard is decided.
    checks: Vec<Check>,
    /// Number of distinct literals of each wildcard.
    needs: Vec<u32>,
    /// For each literal, the wildcards that contain it.
    holders: Vec<Vec<usize>>,
    /// Wildcards without a literal.
    free: Vec<usize>,
    /// The scanner over all literals; `None` when there are none.
    scanner: Option<AhoCorasick>,
    /// With exactly one literal (the default hunt), the faster two-byte
    /// finder for it, used instead of `scanner`.
    single: Option<Finder>,
    /// The conditions.
    exprs: Vec<Expr>,
    /// For each wildcard, the conditions that use it.
    users: Vec<Vec<usize>>,
    /// The conditions that hold when no wildcard matches.
    always: Vec<usize>,
    /// Per literal: seen in the current value.
    seen: Vec<bool>,
    /// Literals seen in the current value.
    seen_list: Vec<usize>,
    /// Per wildcard: literals of it seen in the current value.
    found: Vec<u32>,
    /// Wildcards with a count in `found`.
    found_list: Vec<usize>,
    /// Per wildcard: matched some value of the current event.
    truth: Vec<bool>,
    /// Wildcards true in the current event.
    true_list: Vec<usize>,
    /// Per condition: already queued for evaluation.
    queued: Vec<bool>,
    /// Full checks done so far, for the benchmark's report.
    full_checks: u64,
}

impl Matcher {
    /// Compiles `conditions`; they are numbered in the order given. Fails
    /// only when the literals are too many for one automaton.
    pub fn new(conditions: &[&Condition]) -> Result<Matcher, String> {
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let exprs: Vec<Expr> = conditions
            .iter()
            .map(|c| compile(c.root(), &mut keys, &mut patterns))
            .collect();

        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut numbers: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut holders: Vec<Vec<usize>> = Vec::new();
        let mut checks = Vec::with_capacity(patterns.len());
        let mut needs = Vec::with_capacity(patterns.len());
        let mut free = Vec::new();
        for (p, pattern) in patterns.iter().enumerate() {
            let mut mine: Vec<usize> = Vec::new();
            for literal in pattern.literals() {
                let lower = literal.to_ascii_lowercase();
                let id = *numbers.entry(lower).or_insert_with_key(|lower| {
                    literals.push(lower.clone());
                    holders.push(Vec::new());
                    literals.len() - 1
                });
                mine.push(id);
            }
            mine.sort_unstable();
            mine.dedup();
            for &id in &mine {
                holders[id].push(p);
            }
            let text = pattern.as_str();
            let contains = pattern.literals().len() == 1
                && text.starts_with('*')
                && text.ends_with('*');
            checks.push(if contains {
                Check::Contains
            } else {
                Check::Full
            });
            needs.push(mine.len() as u32);
            if mine.is_empty() {
                free.push(p);
            }
        }
        let scanner = match literals.is_empty() {
            true => None,
            false => Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(kind(&literals)))
                    .build(&literals)
                    .map_err(|e| {
                        format!(
                            "the {} literals of the conditions do not fit \
                             in one automaton ({e})",
                            literals.len()
                        )
                    })?,
            ),
        };

        let mut users = vec![Vec::new(); patterns.len()];
        let mut always = Vec::new();
        let none = vec![false; patterns.len()];
        for (c, expr) in exprs.iter().enumerate() {
            let mut used = Vec::new();
            leaves(expr, &mut used);
            used.sort_unstable();
            used.dedup();
            for p in used {
                users[p].push(c);
            }
            if expr.eval(&none) {
                always.push(c);
            }
        }

        let single = match literals.as_slice() {
            [only] => Some(Finder::new(only)),
            _ => None,
        };
        Ok(Matcher {
            single,
            seen: vec![false; literals.len()],
            seen_list: Vec::new(),
            found: vec![0; patterns.len()],
            found_list: Vec::new(),
            truth: vec![false; patterns.len()],
            true_list: Vec::new(),
            queued: vec![false; exprs.len()],
            full_checks: 0,
            patterns,
            checks,
            needs,
            holders,
            free,
            scanner,
            exprs,
            users,
            always,
        })
    }

    /// Number of distinct wildcards.
    pub fn patterns(&self) -> usize {
        self.patterns.len()
    }

    /// Number of distinct literals in the scanner.
    pub fn literals(&self) -> usize {
        self.seen.len()
    }

    /// Full wildcard checks done so far.
    pub fn full_checks(&self) -> u64 {
        self.full_checks
    }

    /// Tests one value of the current event's field.
    pub fn feed(&mut self, value: &[u8]) {
        if let Some(finder) = &self.single {
            // Only whether each literal occurs counts, not where or how
            // often: one search answers it for the only literal.
            if finder.find(value).is_some() {
                self.seen[0] = true;
                self.seen_list.push(0);
                for &p in &self.holders[0] {
                    if self.found[p] == 0 {
                        self.found_list.push(p);
                    }
                    self.found[p] += 1;
                }
            }
        } else if let Some(scanner) = &self.scanner {
            for m in scanner.find_overlapping_iter(value) {
                let id = m.pattern().as_usize();
                if self.seen[id] {
                    continue;
                }
                self.seen[id] = true;
                self.seen_list.push(id);
                for &p in &self.holders[id] {
                    if self.found[p] == 0 {
                        self.found_list.push(p);
                    }
                    self.found[p] += 1;
                }
            }
        }

        for i in 0..self.found_list.len() {
            let p = self.found_list[i];
            if self.found[p] == self.needs[p] && !self.truth[p] {
                let hit = match self.checks[p] {
                    Check::Contains => true,
                    Check::Full => {
                        self.full_checks += 1;
                        self.patterns[p].is_match(value)
                    }
                };
                if hit {
                    self.truth[p] = true;
                    self.true_list.push(p);
                }
            }
        }
        for i in 0..self.free.len() {
            let p = self.free[i];
            if !self.truth[p] && self.patterns[p].is_match(value) {
                self.truth[p] = true;
                self.true_list.push(p);
            }
        }

        for id in self.seen_list.drain(..) {
            self.seen[id] = false;
        }
        for p in self.found_list.drain(..) {
            self.found[p] = 0;
        }
    }

    /// Decides the current event: puts the numbers of the conditions that
    /// hold into `out`, in ascending order, and makes ready for the next
    /// event. An event whose field had no value was fed nothing.
    pub fn decide(&mut self, out: &mut Vec<usize>) {
        out.clear();
        out.extend_from_slice(&self.always);
        for &c in &self.always {
            self.queued[c] = true;
        }
        for &p in &self.true_list {
            for &c in &self.users[p] {
                if !self.queued[c] {
                    self.queued[c] = true;
                    out.push(c);
                }
            }
        }
        for &c in out.iter() {
            self.queued[c] = false;
        }
        out.sort_unstable();
        let (exprs, truth) = (&self.exprs, &self.truth);
        out.retain(|&c| exprs[c].eval(truth));

        for p in self.true_list.drain(..) {
            self.truth[p] = false;
        }
    }
}

/// The automaton kind for `literals`: a DFA, the fastest to scan with,
/// while its table stays small (1.5 MB for the 4,202 bytes of the 251
/// ESCU literals; it grows with states times byte classes); beyond that
/// the contiguous NFA, whose size grows only with the literals. The
/// crate's automatic choice is the NFA already for the ESCU literals, and
/// `bench/escu.sh` then needs about 45% more CPU time for `hunts=all`.
fn kind(literals: &[Vec<u8>]) -> AhoCorasickKind {
    let bytes: usize = literals.iter().map(Vec::len).sum();
    if bytes <= 20_000 {
        AhoCorasickKind::DFA
    } else {
        AhoCorasickKind::ContiguousNFA
    }
}

/// Compiles a node, numbering new wildcards (distinct up to ASCII case).
fn compile(
    node: &Node,
    keys: &mut HashMap<String, usize>,
    patterns: &mut Vec<Pattern>,
) -> Expr {
    let list = |children: &[Node],
                keys: &mut HashMap<String, usize>,
                patterns: &mut Vec<Pattern>| {
        children
            .iter()
            .map(|c| compile(c, keys, patterns))
            .collect()
    };
    match node {
        Node::Leaf(text) => {
            let key = text.to_ascii_lowercase();
            let id = *keys.entry(key).or_insert_with(|| {
                patterns.push(Pattern::new(text));
                patterns.len() - 1
            });
            Expr::Leaf(id)
        }
        Node::Not(inner) => {
            Expr::Not(Box::new(compile(inner, keys, patterns)))
        }
        Node::And(children) => Expr::And(list(children, keys, patterns)),
        Node::Or(children) => Expr::Or(list(children, keys, patterns)),
    }
}

/// Collects the wildcard numbers an expression uses.
fn leaves(expr: &Expr, out: &mut Vec<usize>) {
    match expr {
        Expr::Leaf(p) => out.push(*p),
        Expr::Not(inner) => leaves(inner, out),
        Expr::And(children) | Expr::Or(children) => {
            children.iter().for_each(|c| leaves(c, out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "ScriptBlockText";

    fn matcher(conditions: &[&str]) -> Matcher {
        let parsed: Vec<Condition> = conditions
            .iter()
            .map(|c| Condition::parse(c, F).unwrap())
            .collect();
        let refs: Vec<&Condition> = parsed.iter().collect();
        Matcher::new(&refs).unwrap()
    }

    fn decide(m: &mut Matcher, values: &[&str]) -> Vec<usize> {
        for v in values {
            m.feed(v.as_bytes());
        }
        let mut out = Vec::new();
        m.decide(&mut out);
        out
    }

    #[test]
    fn conditions_decided_together() {
        let mut m = matcher(&[
            r#"ScriptBlockText="*ShadowCopy*" (ScriptBlockText="*Delete*" OR ScriptBlockText="*Remove*")"#,
            r#"ScriptBlockText IN ("*mimikatz*", "*sekurlsa::pth*")"#,
            r#"ScriptBlockText="*System.Security.Cryptography*" AND NOT(ScriptBlockText IN ("*SHA*", "*MD5*"))"#,
            r#"NOT ScriptBlockText="*x*""#,
        ]);
        assert_eq!(m.patterns(), 9);
        assert_eq!(
            decide(
                &mut m,
                &["Get-WmiObject Win32_ShadowCopy | % { $_.Delete() }"]
            ),
            vec![0, 3]
        );
        assert_eq!(decide(&mut m, &["shadowcopy"]), vec![3]);
        assert_eq!(decide(&mut m, &["SEKURLSA::PTH /user:x"]), vec![1]);
        assert_eq!(
            decide(&mut m, &["[System.Security.Cryptography.AesManaged]"]),
            vec![2, 3]
        );
        assert_eq!(
            decide(&mut m, &["System.Security.Cryptography.SHA256"]),
            vec![3]
        );
        // No value at all: only the NOT condition holds, as in `search`.
        assert_eq!(decide(&mut m, &[]), vec![3]);
    }

    #[test]
    fn literals_must_meet_in_one_value_but_terms_may_not() {
        let mut m = matcher(&[
            r#"ScriptBlockText="*quser*logoff*""#,
            r#"ScriptBlockText="*quser*" ScriptBlockText="*logoff*""#,
        ]);
        // One value holds both literals, in the wrong order for condition 0.
        assert_eq!(decide(&mut m, &["logoff; quser"]), vec![1]);
        // Two values: each term matches one of them.
        assert_eq!(decide(&mut m, &["quser", "logoff"]), vec![1]);
        assert_eq!(
            decide(&mut m, &["quser /server:x | logoff 2"]),
            vec![0, 1]
        );
        assert_eq!(decide(&mut m, &["quser"]), Vec::<usize>::new());
    }

    #[test]
    fn anchored_and_exact_wildcards_get_full_checks() {
        let mut m = matcher(&[
            "ScriptBlockText=Get-GPPPassword",
            "ScriptBlockText=Invoke-ShareFinder*",
            r#"ScriptBlockText="*.HistorySavePath""#,
        ]);
        assert_eq!(decide(&mut m, &["get-gpppassword"]), vec![0]);
        assert_eq!(
            decide(&mut m, &["Get-GPPPassword -x"]),
            Vec::<usize>::new()
        );
        assert_eq!(decide(&mut m, &["invoke-sharefinder -v"]), vec![1]);
        assert_eq!(
            decide(&mut m, &["x; Invoke-ShareFinder"]),
            Vec::<usize>::new()
        );
        assert_eq!(
            decide(&mut m, &["(Get-PSReadlineOption).HistorySavePath"]),
            vec![2]
        );
        assert_eq!(
            decide(&mut m, &["$o.HistorySavePath\n"]),
            Vec::<usize>::new()
        );
        assert_eq!(m.full_checks(), 6);
    }

    #[test]
    fn overlapping_and_repeated_literals() {
        let mut m = matcher(&[
            r#"ScriptBlockText="*MSF.Powershell*""#,
            r#"ScriptBlockText="*MSF.Powershell.Meterpreter*""#,
            r#"ScriptBlockText="*ab*ab*""#,
            r#"ScriptBlockText="*Get-ADUser*" ScriptBlockText="*get-aduser*""#,
        ]);
        // Case-insensitive duplicates share one wildcard.
        assert_eq!(m.patterns(), 4);
        assert_eq!(
            decide(&mut m, &["x MSF.Powershell.Meterpreter y"]),
            vec![0, 1]
        );
        assert_eq!(decide(&mut m, &["abab"]), vec![2]);
        assert_eq!(decide(&mut m, &["ab"]), Vec::<usize>::new());
        assert_eq!(decide(&mut m, &["GET-ADUSER"]), vec![3]);
    }

    #[test]
    fn wildcards_without_literals() {
        let mut m = matcher(&["ScriptBlockText=*", "ScriptBlockText=**"]);
        assert_eq!(m.literals(), 0);
        assert_eq!(decide(&mut m, &["anything"]), vec![0, 1]);
        assert_eq!(decide(&mut m, &[""]), vec![0, 1]);
        assert_eq!(decide(&mut m, &[]), Vec::<usize>::new());
    }

    #[test]
    fn each_distinct_wildcard_is_checked_once_per_value() {
        // The same anchored wildcard in 50 conditions, several times each,
        // in any case: one full check per value, whatever the condition.
        let one = r#"(ScriptBlockText="a*z" OR NOT ScriptBlockText="A*Z")"#;
        let conditions: Vec<String> = (0..50)
            .map(|i| format!("{one} ScriptBlockText=\"*{i}*\" {one}"))
            .collect();
        let refs: Vec<&str> = conditions.iter().map(|c| c.as_str()).collect();
        let mut m = matcher(&refs);
        assert_eq!(m.patterns(), 51);
        assert_eq!(decide(&mut m, &["a 7 z"]), vec![7]);
        assert_eq!(m.full_checks(), 1);
        // Once true for the event, a wildcard is not checked again.
        assert_eq!(decide(&mut m, &["a 7 z", "a 8 y"]), vec![7, 8]);
        assert_eq!(m.full_checks(), 2);
        // "a 8 y" has no z: the prefilter decides a*z without a check.
        assert_eq!(decide(&mut m, &["a 8 y", "a 7 z"]), vec![7, 8]);
        assert_eq!(m.full_checks(), 3);
    }

    #[test]
    fn state_is_reset_between_events() {
        let mut m =
            matcher(&[r#"ScriptBlockText="*a*" ScriptBlockText="*b*""#]);
        assert_eq!(decide(&mut m, &["a"]), Vec::<usize>::new());
        assert_eq!(decide(&mut m, &["b"]), Vec::<usize>::new());
        assert_eq!(decide(&mut m, &["ba"]), vec![0]);
    }
}
