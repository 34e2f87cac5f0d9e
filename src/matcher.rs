//! Many conditions over one field, decided together.
//!
//! Running the ESCU hunts one after another would test each script block
//! against some 250 distinct wildcards. Instead the conditions are decided
//! together, in two steps, and most events need only the first.
//!
//! **Gates.** Each condition gets a few literals (the text between a
//! wildcard's stars) such that, when none of them occurs in the event, the
//! condition has the value it has when no wildcard matches at all (false,
//! unless it is a `NOT` of something): one literal of a wildcard, any one
//! gate of an `AND` whose child is false without matches (the cheapest:
//! long literals first), all the gates of an `OR`. One scan of each value
//! by a [`LiteralSet`] over every condition's gate literals, exact and
//! sampled so that it reads a fraction of the bytes, tells which gates
//! occur. An event with none (nearly every event) is decided there: the
//! conditions take their values without matches, computed once at the
//! start.
//!
//! **Checks.** Only the conditions with a gate present (and those without
//! any gate, such as `ScriptBlockText=*`) are evaluated, from the left,
//! with `AND` and `OR` stopping early. A wildcard's result is the OR over
//! the event's values (semantics notes §2.4) and is computed at most once
//! per event: a `*literal*` whose literal is a gate is known from the
//! scan; a wildcard with a gate literal the scan did not find is false; any
//! other is matched ([`Pattern::is_match`], linear) against each value
//! until one matches.
//!
//! When many conditions are opened in one event (a text crafted to hold
//! every gate), checking them one by one would read the text once per
//! wildcard; past [`EXHAUSTIVE`] conditions the event is instead decided as
//! a whole: one Aho-Corasick automaton over every literal, ASCII
//! case-insensitive, tells in one overlapping scan which literals occur,
//! which decides most wildcards outright (a missing literal means false,
//! a found `*literal*` true), and the rest get one full check each.
//!
//! Everything is linear in the event's length: one gate scan, then either
//! at most one check per distinct wildcard of the opened conditions, or
//! one automaton scan plus at most one full check per distinct wildcard.
//! Nothing backtracks.

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::condition::{Condition, Node};
use crate::literals::LiteralSet;
use crate::pattern::Pattern;

/// Conditions opened in one event past which the event is decided by one
/// automaton scan instead of condition by condition.
pub const EXHAUSTIVE: usize = 12;

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

    /// The value of the expression, each wildcard's result asked of
    /// `leaf` only when needed.
    fn eval_with(&self, leaf: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Expr::Leaf(p) => leaf(*p),
            Expr::Not(inner) => !inner.eval_with(leaf),
            Expr::And(children) => children.iter().all(|c| c.eval_with(leaf)),
            Expr::Or(children) => children.iter().any(|c| c.eval_with(leaf)),
        }
    }
}

/// The compiled conditions and the state of the event being decided.
pub struct Matcher {
    /// The distinct wildcards (case-insensitively distinct).
    patterns: Vec<Pattern>,
    /// How each wildcard is decided.
    checks: Vec<Check>,
    /// The conditions.
    exprs: Vec<Expr>,
    /// The conditions that hold when no wildcard matches, ascending.
    always: Vec<usize>,
    /// The scan over every condition's gate literals.
    gates: LiteralSet,
    /// For each gate literal, the conditions it opens.
    opens: Vec<Vec<usize>>,
    /// The conditions without a gate, opened on every event.
    ungated: Vec<usize>,
    /// For each wildcard, the gate numbers of its literals.
    gated: Vec<Vec<usize>>,
    /// The whole-event decision, for events that open many conditions.
    exhaustive: Exhaustive,
    /// Per gate literal: found in the current event.
    gate_seen: Vec<bool>,
    /// Gate literals found in the current event.
    gate_list: Vec<usize>,
    /// Per condition: opened in the current event.
    opened: Vec<bool>,
    /// Conditions opened in the current event.
    open_list: Vec<usize>,
    /// Per wildcard: 0 not yet known in the current event, 1 false,
    /// 2 true.
    known: Vec<u8>,
    /// Wildcards known in the current event.
    known_list: Vec<usize>,
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
        let mut owned: Vec<Vec<usize>> = Vec::with_capacity(patterns.len());
        let mut checks = Vec::with_capacity(patterns.len());
        for pattern in &patterns {
            let mut mine: Vec<usize> = Vec::new();
            for literal in pattern.literals() {
                let lower = literal.to_ascii_lowercase();
                let id = *numbers.entry(lower).or_insert_with_key(|lower| {
                    literals.push(lower.clone());
                    literals.len() - 1
                });
                mine.push(id);
            }
            mine.sort_unstable();
            mine.dedup();
            owned.push(mine);
            let text = pattern.as_str();
            let contains = pattern.literals().len() == 1
                && text.starts_with('*')
                && text.ends_with('*');
            checks.push(if contains {
                Check::Contains
            } else {
                Check::Full
            });
        }

        let none = vec![false; patterns.len()];
        let always: Vec<usize> =
            (0..exprs.len()).filter(|&c| exprs[c].eval(&none)).collect();
        let mut gate_number: HashMap<usize, usize> = HashMap::new();
        let mut gate_literals: Vec<&[u8]> = Vec::new();
        let mut opens: Vec<Vec<usize>> = Vec::new();
        let mut ungated = Vec::new();
        for (c, expr) in exprs.iter().enumerate() {
            let Some(set) = gate(expr, &owned, &literals, &none) else {
                ungated.push(c);
                continue;
            };
            for id in set {
                let g = *gate_number.entry(id).or_insert_with(|| {
                    gate_literals.push(&literals[id]);
                    opens.push(Vec::new());
                    opens.len() - 1
                });
                opens[g].push(c);
            }
        }
        let gated = owned
            .iter()
            .map(|ids| {
                ids.iter().filter_map(|id| gate_number.get(id)).copied()
            })
            .map(Iterator::collect)
            .collect();
        let gates = LiteralSet::new(&gate_literals)?;
        let exhaustive = Exhaustive::new(literals, &owned)?;

        Ok(Matcher {
            gate_seen: vec![false; gates.len()],
            gate_list: Vec::new(),
            opened: vec![false; exprs.len()],
            open_list: Vec::new(),
            known: vec![0; patterns.len()],
            known_list: Vec::new(),
            full_checks: 0,
            patterns,
            checks,
            exprs,
            always,
            gates,
            opens,
            ungated,
            gated,
            exhaustive,
        })
    }

    /// Number of distinct wildcards.
    pub fn patterns(&self) -> usize {
        self.patterns.len()
    }

    /// Number of distinct literals of all wildcards.
    pub fn literals(&self) -> usize {
        self.exhaustive.seen.len()
    }

    /// Number of distinct gate literals, the ones every value is scanned
    /// for.
    pub fn gate_literals(&self) -> usize {
        self.gates.len()
    }

    /// Full checks done so far.
    pub fn full_checks(&self) -> u64 {
        self.full_checks
    }

    /// Decides one event whose field has the values `text[r]` for each
    /// range `r` in `values` (none when the field is absent): puts the
    /// numbers of the conditions that hold into `out`, ascending.
    pub fn decide(
        &mut self,
        text: &[u8],
        values: &[Range<usize>],
        out: &mut Vec<usize>,
    ) {
        out.clear();
        self.open(text, values);
        if self.open_list.is_empty() {
            out.extend_from_slice(&self.always);
            return;
        }

        for &c in &self.always {
            if !self.opened[c] {
                out.push(c);
            }
        }
        if self.open_list.len() > EXHAUSTIVE {
            let truth = self.exhaustive.truth(
                &self.patterns,
                &self.checks,
                text,
                values,
                &mut self.full_checks,
            );
            let exprs = &self.exprs;
            out.extend(
                self.open_list.iter().filter(|&&c| exprs[c].eval(truth)),
            );
            self.exhaustive.reset();
        } else {
            for i in 0..self.open_list.len() {
                let c = self.open_list[i];
                if self.check(c, text, values) {
                    out.push(c);
                }
            }
        }
        out.sort_unstable();

        for g in self.gate_list.drain(..) {
            self.gate_seen[g] = false;
        }
        for c in self.open_list.drain(..) {
            self.opened[c] = false;
        }
        for p in self.known_list.drain(..) {
            self.known[p] = 0;
        }
    }

    /// Scans the values for gate literals and lists the conditions they
    /// open, with the ungated ones; leaves no state behind when none is
    /// opened.
    fn open(&mut self, text: &[u8], values: &[Range<usize>]) {
        for range in values {
            let (seen, list) = (&mut self.gate_seen, &mut self.gate_list);
            self.gates.scan(&text[range.clone()], &mut |g| {
                if !seen[g] {
                    seen[g] = true;
                    list.push(g);
                }
            });
        }
        for &c in &self.ungated {
            self.opened[c] = true;
            self.open_list.push(c);
        }
        for &g in &self.gate_list {
            for &c in &self.opens[g] {
                if !self.opened[c] {
                    self.opened[c] = true;
                    self.open_list.push(c);
                }
            }
        }
        if self.open_list.is_empty() {
            for g in self.gate_list.drain(..) {
                self.gate_seen[g] = false;
            }
        }
    }

    /// Evaluates condition `c` on the event, each wildcard's result
    /// computed at most once per event.
    fn check(
        &mut self,
        c: usize,
        text: &[u8],
        values: &[Range<usize>],
    ) -> bool {
        let Matcher {
            exprs,
            patterns,
            checks,
            gated,
            gate_seen,
            known,
            known_list,
            full_checks,
            ..
        } = self;
        exprs[c].eval_with(&mut |p| {
            if known[p] == 0 {
                let hit = if gated[p].iter().any(|&g| !gate_seen[g]) {
                    // A literal of it occurs in no value.
                    false
                } else if checks[p] == Check::Contains && !gated[p].is_empty()
                {
                    // Its one literal is a gate, and was found.
                    true
                } else {
                    values.iter().any(|r| {
                        *full_checks += u64::from(checks[p] == Check::Full);
                        patterns[p].is_match(&text[r.clone()])
                    })
                };
                known[p] = 1 + u8::from(hit);
                known_list.push(p);
            }
            known[p] == 2
        })
    }
}

/// The whole-event decision: which wildcards match some value, from one
/// automaton scan over every literal plus full checks.
struct Exhaustive {
    /// The scanner over all literals; `None` when there are none.
    scanner: Option<AhoCorasick>,
    /// Number of distinct literals of each wildcard.
    needs: Vec<u32>,
    /// For each literal, the wildcards that contain it.
    holders: Vec<Vec<usize>>,
    /// Wildcards without a literal.
    free: Vec<usize>,
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
}

impl Exhaustive {
    /// The automaton over `literals`; `owned[p]` are the distinct literal
    /// numbers of wildcard `p`.
    fn new(
        literals: Vec<Vec<u8>>,
        owned: &[Vec<usize>],
    ) -> Result<Exhaustive, String> {
        let mut holders = vec![Vec::new(); literals.len()];
        let mut free = Vec::new();
        for (p, mine) in owned.iter().enumerate() {
            for &id in mine {
                holders[id].push(p);
            }
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
        Ok(Exhaustive {
            scanner,
            needs: owned.iter().map(|m| m.len() as u32).collect(),
            holders,
            free,
            seen: vec![false; literals.len()],
            seen_list: Vec::new(),
            found: vec![0; owned.len()],
            found_list: Vec::new(),
            truth: vec![false; owned.len()],
            true_list: Vec::new(),
        })
    }

    /// Each wildcard's result on the event (until `reset`), given the
    /// wildcards and how each is decided.
    fn truth(
        &mut self,
        patterns: &[Pattern],
        checks: &[Check],
        text: &[u8],
        values: &[Range<usize>],
        full_checks: &mut u64,
    ) -> &[bool] {
        for range in values {
            self.feed(patterns, checks, &text[range.clone()], full_checks);
        }
        &self.truth
    }

    /// Forgets the event.
    fn reset(&mut self) {
        for p in self.true_list.drain(..) {
            self.truth[p] = false;
        }
    }

    /// Tests one value of the event.
    fn feed(
        &mut self,
        patterns: &[Pattern],
        checks: &[Check],
        value: &[u8],
        full_checks: &mut u64,
    ) {
        if let Some(scanner) = &self.scanner {
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
                let hit = match checks[p] {
                    Check::Contains => true,
                    Check::Full => {
                        *full_checks += 1;
                        patterns[p].is_match(value)
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
            if !self.truth[p] && patterns[p].is_match(value) {
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
}

/// A set of literal numbers such that, when none of them occurs in any
/// value, `expr` has its value without matches; `None` when there is no
/// such set (a wildcard without literals decides it). `owned[p]` are the
/// literals of wildcard `p`; `none` is every wildcard false.
fn gate(
    expr: &Expr,
    owned: &[Vec<usize>],
    literals: &[Vec<u8>],
    none: &[bool],
) -> Option<Vec<usize>> {
    let union = |children: &[Expr]| -> Option<Vec<usize>> {
        let mut all = Vec::new();
        for child in children {
            all.extend(gate(child, owned, literals, none)?);
        }
        all.sort_unstable();
        all.dedup();
        Some(all)
    };
    match expr {
        // Every literal of a wildcard must occur for it to match.
        Expr::Leaf(p) => owned[*p]
            .iter()
            .min_by_key(|&&id| (cost(&literals[id]), id))
            .map(|&id| vec![id]),
        Expr::Not(inner) => gate(inner, owned, literals, none),
        Expr::Or(children) => union(children),
        // A child false without matches keeps the AND false while its
        // gates are absent.
        Expr::And(children) => children
            .iter()
            .filter(|c| !c.eval(none))
            .filter_map(|c| gate(c, owned, literals, none))
            .min_by_key(|set| {
                set.iter().map(|&id| cost(&literals[id])).sum::<u64>()
            })
            .or_else(|| union(children)),
    }
}

/// What a gate literal costs, by length: roughly how often a literal of
/// that length occurs in script text, halving with each byte (a 6-byte
/// word such as `select` is in half the scripts, a 15-byte cmdlet name in
/// few), so that an `OR` of ten long names beats one short word.
fn cost(literal: &[u8]) -> u64 {
    1 << (24 - literal.len().min(24))
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
        let text = values.concat();
        let mut ranges = Vec::new();
        for v in values {
            let start = ranges.last().map_or(0, |r: &Range<usize>| r.end);
            ranges.push(start..start + v.len());
        }
        let mut out = Vec::new();
        m.decide(text.as_bytes(), &ranges, &mut out);
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
        // a*z is checked on "a 8 y" (false), then on "a 7 z" (true):
        // two checks, one per value, none more for condition 8.
        assert_eq!(decide(&mut m, &["a 8 y", "a 7 z"]), vec![7, 8]);
        assert_eq!(m.full_checks(), 4);
        // No gate ("0" to "49") in the event: no condition is opened and
        // nothing is checked, though "a z" matches a*z.
        assert_eq!(decide(&mut m, &["a z"]), Vec::<usize>::new());
        assert_eq!(m.full_checks(), 4);
    }

    #[test]
    fn state_is_reset_between_events() {
        let mut m =
            matcher(&[r#"ScriptBlockText="*a*" ScriptBlockText="*b*""#]);
        assert_eq!(decide(&mut m, &["a"]), Vec::<usize>::new());
        assert_eq!(decide(&mut m, &["b"]), Vec::<usize>::new());
        assert_eq!(decide(&mut m, &["ba"]), vec![0]);
    }

    #[test]
    fn gates_pick_the_cheapest_child_of_an_and() {
        // The AND's first child is an OR of two short words, the second
        // an OR of two long names: the long names are the gates.
        let mut m = matcher(&[
            r#"(ScriptBlockText="*SELECT*" OR ScriptBlockText="*WMIC*") AND (ScriptBlockText="*AntiVirusProduct*" OR ScriptBlockText="*AntiSpywareProduct*")"#,
            r#"NOT ScriptBlockText="*Remove-Item*""#,
        ]);
        assert_eq!(m.gate_literals(), 3);
        assert_eq!(decide(&mut m, &["select * from x"]), vec![1]);
        assert_eq!(
            decide(&mut m, &["wmic /namespace AntiSpywareProduct"]),
            vec![0, 1]
        );
        assert_eq!(
            decide(&mut m, &["AntivirusProduct; remove-item x"]),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn many_opened_conditions_are_decided_by_the_automaton() {
        // 20 conditions, all opened by one text: past EXHAUSTIVE, the
        // whole-event path decides them, with the same answers.
        let conditions: Vec<String> = (0..20)
            .map(|i| {
                format!(
                    r#"ScriptBlockText="*gate{i:02}*" (ScriptBlockText="*odd*" OR ScriptBlockText="*x{i}y*") NOT ScriptBlockText="no{i}*""#
                )
            })
            .collect();
        let refs: Vec<&str> = conditions.iter().map(|c| c.as_str()).collect();
        let mut m = matcher(&refs);
        let all: String = (0..20).map(|i| format!("gate{i:02} ")).collect();
        let text = format!("{all} x3y x17y");
        assert_eq!(decide(&mut m, &[&text]), vec![3, 17]);
        let text = format!("no5 {all} odd");
        let expected: Vec<usize> = (0..20).filter(|&i| i != 5).collect();
        assert_eq!(decide(&mut m, &[&text]), expected);
        // The same with the gates split over two values ("no5 " and five
        // gates in the first).
        assert_eq!(decide(&mut m, &[&text[..39], &text[39..]]), expected);
    }

    use proptest::prelude::*;

    /// A wildcard over a small alphabet: contains, anchored, exact.
    fn wildcard() -> impl Strategy<Value = String> {
        let word = || proptest::string::string_regex("[aB-]{1,9}").unwrap();
        (word(), word(), 0..5).prop_map(|(a, b, shape)| match shape {
            0 => format!("*{a}*"),
            1 => format!("{a}*"),
            2 => format!("*{a}"),
            3 => a,
            _ => format!("*{a}*{b}*"),
        })
    }

    /// A condition: leaves joined by AND, OR and NOT, depth 3 at most.
    fn condition() -> impl Strategy<Value = String> {
        let leaf =
            wildcard().prop_map(|w| format!(r#"ScriptBlockText="{w}""#));
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|c| format!("NOT ({c})")),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| format!("({a}) AND ({b})")),
                (inner.clone(), inner)
                    .prop_map(|(a, b)| format!("({a}) OR ({b})")),
            ]
        })
    }

    /// The condition's value on the values, the obvious way: a leaf holds
    /// when its wildcard matches any value.
    fn naive(node: &Node, values: &[String]) -> bool {
        match node {
            Node::Leaf(p) => {
                let p = Pattern::new(p);
                values.iter().any(|v| p.is_match(v.as_bytes()))
            }
            Node::Not(inner) => !naive(inner, values),
            Node::And(c) => c.iter().all(|n| naive(n, values)),
            Node::Or(c) => c.iter().any(|n| naive(n, values)),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_evaluating_each_condition(
            conditions in proptest::collection::vec(condition(), 1..30),
            events in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::string::string_regex("[aAbB -]{0,60}").unwrap(),
                    0..3,
                ),
                1..8,
            ),
        ) {
            let parsed: Vec<Condition> = conditions
                .iter()
                .map(|c| Condition::parse(c, F).unwrap())
                .collect();
            let refs: Vec<&Condition> = parsed.iter().collect();
            let mut m = Matcher::new(&refs).unwrap();
            for values in &events {
                let expected: Vec<usize> = (0..parsed.len())
                    .filter(|&c| naive(parsed[c].root(), values))
                    .collect();
                let values: Vec<&str> =
                    values.iter().map(|v| v.as_str()).collect();
                prop_assert_eq!(decide(&mut m, &values), expected);
            }
        }
    }
}
