//! The built-in catalog against independent sources.
//!
//! Every built-in hunt's condition, as the parser reads it, equals the
//! catalog notes' own normalized form of that detection (section 5.2 of
//! the notes, kept in tests/data): precedence, IN lists, NOT, unquoted
//! values and SPL backslashes read the same way by two independent hands.
//! The hunt lists in docs/escu.md and README.md match the data file.

use std::collections::HashMap;

use scriptblockhunt::catalog::Catalog;
use scriptblockhunt::matcher::Matcher;

/// The notes' normalized condition of each detection, by id.
fn expected() -> HashMap<String, String> {
    let text = include_str!("data/escu-4104-normalized.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("id\t"))
        .map(|l| {
            let (id, form) = l.split_once('\t').expect("two columns");
            (id.to_string(), form.to_string())
        })
        .collect()
}

#[test]
fn parsed_conditions_equal_the_catalogs_normalized_forms() {
    let expected = expected();
    let catalog = Catalog::builtin().unwrap();
    assert_eq!(expected.len(), 101);
    let mut wrong = Vec::new();
    for hunt in catalog.hunts() {
        let got = hunt.condition.normalized();
        if expected.get(&hunt.id) != Some(&got) {
            wrong.push(format!(
                "{} ({}):\n  parsed   {got}\n  expected {:?}",
                hunt.name,
                hunt.id,
                expected.get(&hunt.id)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn one_scanner_holds_every_distinct_literal() {
    // Counted from the notes' normalized forms with Python (ASCII case
    // folded): 246 distinct wildcards, 251 distinct literals.
    let catalog = Catalog::builtin().unwrap();
    let conditions: Vec<_> =
        catalog.hunts().iter().map(|h| &h.condition).collect();
    let matcher = Matcher::new(&conditions).unwrap();
    assert_eq!(matcher.patterns(), 246);
    assert_eq!(matcher.literals(), 251);
}

#[test]
fn the_docs_list_every_hunt_with_its_id() {
    listed_in(include_str!("../docs/escu.md"));
    listed_in(include_str!("../README.md"));
}

/// Checks that the hunt list in `docs` names every hunt with its id.
fn listed_in(docs: &str) {
    let start = docs.find("<!-- hunts:begin -->").unwrap();
    let end = docs.find("<!-- hunts:end -->").unwrap();
    let listed: Vec<(String, String)> = docs[start..end]
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let id = cells.get(1)?.trim_matches('`');
            (id.len() == 36).then(|| {
                (
                    cells[0].trim_start_matches("| ").to_string(),
                    id.to_string(),
                )
            })
        })
        .collect();
    let catalog = Catalog::builtin().unwrap();
    let mut hunts: Vec<(String, String)> = catalog
        .hunts()
        .iter()
        .map(|h| (h.name.clone(), h.id.clone()))
        .collect();
    hunts.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    assert_eq!(listed, hunts);
}
