//! One event's fields, however the input holds them.
//!
//! A chunk's CSV record, an XmlWinEventLog event and a JSON line all answer
//! the same question: what are the values of the field in slot `n`? Slots
//! are the positions of the command's required fields (see `Layout`).

use std::ops::Range;

/// One field of one event, as the input holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// The field is absent (an empty CSV cell is absent: Splunk's CSV
    /// cannot tell an empty value from a missing one).
    Null,
    /// One value.
    Single(&'a [u8]),
    /// Several values in Splunk's `__mv_` encoding: `$v1$;$v2$`, a `$`
    /// inside a value doubled.
    Encoded(&'a [u8]),
    /// Several values already split.
    List(&'a [Vec<u8>]),
}

/// Something that can tell the values of its fields by slot.
pub trait Event {
    /// The field in `slot`. `scratch` may be used to hold decoded bytes;
    /// the result may borrow from it.
    fn field<'s>(&'s self, slot: usize, scratch: &'s mut Vec<u8>)
        -> Field<'s>;

    /// The field in `slot` for a test that gives the same answer whether
    /// or not CSV's doubled quotes are undone (a wildcard with no `"`):
    /// an input may hand over the escaped bytes and skip the copy.
    /// Default: `field`.
    fn field_quotes_doubled<'s>(
        &'s self,
        slot: usize,
        scratch: &'s mut Vec<u8>,
    ) -> Field<'s> {
        self.field(slot, scratch)
    }
}

/// A `__mv_` cell that does not follow the `$v$;$v$` encoding.
#[derive(Debug, PartialEq, Eq)]
pub struct BadMultivalue {
    /// Byte offset in the cell where decoding failed.
    pub offset: usize,
}

/// Calls `visit` on every non-empty value of `field` until it returns
/// true; returns whether one did. `scratch` holds values whose `$$` needed decoding.
pub fn any_value(
    field: Field<'_>,
    scratch: &mut Vec<u8>,
    mut visit: impl FnMut(&[u8]) -> bool,
) -> Result<bool, BadMultivalue> {
    match field {
        Field::Null => Ok(false),
        Field::Single(v) => Ok(visit(v)),
        Field::List(values) => Ok(values.iter().any(|v| visit(v))),
        Field::Encoded(cell) => {
            let mut found = false;
            decode(cell, scratch, |v| {
                if !found && !v.is_empty() && visit(v) {
                    found = true;
                }
            })?;
            Ok(found)
        }
    }
}

/// Appends every non-empty value of `field` to `arena`, pushing each
/// value's range in the arena to `ranges`.
pub fn push_values(
    field: Field<'_>,
    scratch: &mut Vec<u8>,
    arena: &mut Vec<u8>,
    ranges: &mut Vec<Range<usize>>,
) -> Result<(), BadMultivalue> {
    let mut push = |v: &[u8]| {
        // An empty item is no value: Splunk's CSV has no other null, and
        // an empty BY cell would read back in Splunk as a null field.
        if v.is_empty() {
            return;
        }
        let start = arena.len();
        arena.extend_from_slice(v);
        ranges.push(start..arena.len());
    };
    match field {
        Field::Null => {}
        Field::Single(v) => push(v),
        Field::List(values) => values.iter().for_each(|v| push(v)),
        Field::Encoded(cell) => decode(cell, scratch, push)?,
    }
    Ok(())
}

/// Decodes a `__mv_` cell, calling `visit` once per value, in order. An
/// item between `$` signs is a value; `$$` inside stands for one `$`; items
/// are separated by `;`. This is the reading of the Python SDK
/// (`\$(?P<item>(?:\$\$|[^$])*)\$(?:;|$)`), but strict: bytes outside that
/// shape are an error instead of being skipped.
pub fn decode(
    cell: &[u8],
    scratch: &mut Vec<u8>,
    mut visit: impl FnMut(&[u8]),
) -> Result<(), BadMultivalue> {
    let mut i = 0;
    loop {
        if cell.get(i) != Some(&b'$') {
            return Err(BadMultivalue { offset: i });
        }
        i += 1;
        let start = i;
        let mut escaped = false;
        loop {
            match memchr::memchr(b'$', &cell[i..]) {
                None => {
                    return Err(BadMultivalue { offset: cell.len() });
                }
                Some(n) => {
                    i += n;
                    if cell.get(i + 1) == Some(&b'$') {
                        escaped = true;
                        i += 2;
                    } else {
                        break;
                    }
                }
            }
        }
        let item = &cell[start..i];
        if escaped {
            scratch.clear();
            let mut j = 0;
            while j < item.len() {
                scratch.push(item[j]);
                j += if item[j] == b'$' { 2 } else { 1 };
            }
            visit(scratch);
        } else {
            visit(item);
        }
        i += 1;
        match cell.get(i) {
            None => return Ok(()),
            Some(b';') => i += 1,
            Some(_) => return Err(BadMultivalue { offset: i }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(cell: &[u8]) -> Result<Vec<Vec<u8>>, BadMultivalue> {
        let mut out = Vec::new();
        decode(cell, &mut Vec::new(), |v| out.push(v.to_vec()))?;
        Ok(out)
    }

    #[test]
    fn decodes_splunk_multivalue_cells() {
        assert_eq!(
            values(b"$FIREFLY-WIN$;$beatles$").unwrap(),
            vec![b"FIREFLY-WIN".to_vec(), b"beatles".to_vec()]
        );
        assert_eq!(
            values(b"$a$;$b$$c$").unwrap(),
            vec![b"a".to_vec(), b"b$c".to_vec()]
        );
        assert_eq!(values(b"$$$$").unwrap(), vec![b"$".to_vec()]);
        assert_eq!(
            values(b"$$;$x$").unwrap(),
            vec![b"".to_vec(), b"x".to_vec()]
        );
    }

    #[test]
    fn malformed_cells_are_errors() {
        assert_eq!(values(b"a"), Err(BadMultivalue { offset: 0 }));
        assert_eq!(values(b"$a"), Err(BadMultivalue { offset: 2 }));
        assert_eq!(values(b"$a$b"), Err(BadMultivalue { offset: 3 }));
        assert_eq!(values(b"$a$;"), Err(BadMultivalue { offset: 4 }));
    }

    #[test]
    fn any_value_stops_at_the_first_hit() {
        let mut seen = 0;
        let hit =
            any_value(Field::Encoded(b"$x$;$y$;$z$"), &mut Vec::new(), |v| {
                seen += 1;
                v == b"y"
            })
            .unwrap();
        assert!(hit);
        assert_eq!(seen, 2);
    }

    #[test]
    fn push_values_fills_the_arena() {
        let (mut arena, mut ranges) = (Vec::new(), Vec::new());
        let list = vec![b"p".to_vec(), b"q".to_vec()];
        for field in [
            Field::Single(b"a"),
            Field::Null,
            Field::Encoded(b"$b$;$$;$c$$$"),
            Field::List(&list),
        ] {
            push_values(field, &mut Vec::new(), &mut arena, &mut ranges)
                .unwrap();
        }
        let got: Vec<&[u8]> =
            ranges.iter().map(|r| &arena[r.clone()]).collect();
        assert_eq!(got, vec![&b"a"[..], b"b", b"c$", b"p", b"q"]);
    }
}
