//! Every built-in hunt's condition, as the parser reads it, equals the
//! catalog notes' own normalized form of that detection (section 5.2 of
//! the notes, kept in tests/data): precedence, IN lists, NOT, unquoted
//! values and SPL backslashes read the same way by two independent hands.

use std::collections::HashMap;

use scriptblockhunt::catalog::Catalog;

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
