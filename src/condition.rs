//! Conditions: the part of an SPL `search` that tests the match field.
//!
//! ESCU writes its script block tests as SPL, for example
//! `ScriptBlockText = "*ShadowCopy*" (ScriptBlockText = "*Delete*" OR
//! ScriptBlockText = "*Remove*")`. This module reads that language into a
//! tree of wildcard leaves joined by `AND`, `OR` and `NOT`:
//!
//! * a term is `field=value` (spaces around `=` allowed) or
//!   `field IN (value, ...)`; the value is quoted or not; `IN` is an `OR`
//!   of its values;
//! * terms next to each other are joined by an implied `AND`;
//! * precedence is the `search` command's, not `eval`'s: parentheses, then
//!   `NOT`, then `OR`, then `AND` ("The search command evaluates OR before
//!   AND operators", Search Manual, "Boolean expressions with logical
//!   operators"). So `a b OR c` is `a AND (b OR c)`, and `NOT` takes only
//!   the term right after it;
//! * the operators `AND`, `OR`, `NOT` and `IN` must be upper case (same
//!   page, and the "IN operator must be in uppercase"); a lower-case `or`
//!   is not an operator;
//! * in a value, `\\` is one backslash, `\"` a quote and `\|` a pipe; any
//!   other backslash stays as it is, so `\*` is a backslash followed by a
//!   wildcard ("The backslash symbol can't be used to escape the asterisk
//!   in search strings", Search Manual, "Backslashes"; that unknown
//!   sequences stay is the search reference's "Quotes and escaping
//!   characters" as remembered, not re-read: an assumption);
//! * a value without `*` is a whole-value match; the match itself is the
//!   [`Pattern`](crate::pattern::Pattern)'s: anchored, ASCII
//!   case-insensitive.
//!
//! Only the match field may be tested. The ESCU conditions test nothing
//! else once their base search (`` `powershell` EventCode=4104 ``) is
//! taken out, and the base search is the part Splunk runs before the
//! command. A bare word or phrase (a search of `_raw`) and the comparison
//! operators `!=`, `<`, `>` are refused with the position they start at.
//!
//! Empty items of an `IN` list, as in `IN (,"*a*",)`, are ignored: Splunk
//! does not document them, and read as `field=""` they could not match
//! either, since an empty value is no value here.
//!
//! Errors give the byte offset in the condition and an excerpt of it with a
//! caret under the byte where reading stopped.

use std::fmt;

/// How deep parentheses and `NOT` may nest; deeper input is refused
/// rather than risking the stack.
pub const MAX_DEPTH: usize = 64;

/// One node of a condition tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A wildcard test on the match field, the pattern as matched (SPL
    /// escapes already undone).
    Leaf(String),
    /// True when the node is false (also when the field is absent).
    Not(Box<Node>),
    /// True when every child is; at least two children, none an `And`.
    And(Vec<Node>),
    /// True when any child is; at least two children, none an `Or`.
    Or(Vec<Node>),
}

impl Node {
    /// Joins `children` with `And` (`or == false`) or `Or`, flattening
    /// children of the same kind; one child stands for itself.
    fn join(or: bool, children: Vec<Node>) -> Node {
        let mut flat = Vec::with_capacity(children.len());
        for child in children {
            match child {
                Node::And(inner) if !or => flat.extend(inner),
                Node::Or(inner) if or => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            return flat.pop().expect("one child");
        }
        if or {
            Node::Or(flat)
        } else {
            Node::And(flat)
        }
    }

    /// Calls `visit` on every leaf pattern, left to right.
    pub fn leaves<'a>(&'a self, visit: &mut impl FnMut(&'a str)) {
        match self {
            Node::Leaf(p) => visit(p),
            Node::Not(inner) => inner.leaves(visit),
            Node::And(children) | Node::Or(children) => {
                children.iter().for_each(|c| c.leaves(visit))
            }
        }
    }

    /// Writes the normalized form: `AND(...)`, `OR(...)`, `NOT(...)` and
    /// leaves as JSON strings, children separated by `, `.
    fn write_normalized(&self, out: &mut String) {
        let list = |out: &mut String, name: &str, nodes: &[Node]| {
            out.push_str(name);
            out.push('(');
            for (i, node) in nodes.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                node.write_normalized(out);
            }
            out.push(')');
        };
        match self {
            Node::Leaf(p) => {
                out.push_str(&serde_json::Value::from(p.as_str()).to_string())
            }
            Node::Not(inner) => list(out, "NOT", std::slice::from_ref(inner)),
            Node::And(children) => list(out, "AND", children),
            Node::Or(children) => list(out, "OR", children),
        }
    }
}

/// A parsed condition over one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The tree.
    root: Node,
}

impl Condition {
    /// Parses `text`, whose terms must all test `field`.
    pub fn parse(text: &str, field: &str) -> Result<Condition, BadCondition> {
        let mut parser = Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            field,
            depth: 0,
        };
        parser.skip_space();
        if parser.at_end() {
            return Err(parser.error("the condition is empty"));
        }
        let root = parser.and_expr()?;
        if let Some(b')') = parser.peek() {
            return Err(parser.error("a ')' that closes no '('"));
        }
        Ok(Condition { root })
    }

    /// The condition that holds when any of `patterns` matches: what
    /// `pattern=` options mean. The patterns are taken as they are, with no
    /// SPL escapes to undo.
    pub fn any_of<S: AsRef<str>>(patterns: &[S]) -> Condition {
        let leaves = patterns
            .iter()
            .map(|p| Node::Leaf(p.as_ref().to_string()))
            .collect();
        Condition {
            root: Node::join(true, leaves),
        }
    }

    /// The tree.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The leaf patterns, left to right, repeats included.
    pub fn patterns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.root.leaves(&mut |p| out.push(p));
        out
    }

    /// The normalized form, as the catalog notes write it (section 5.1):
    /// `AND("*ShadowCopy*", OR("*Delete*", "*Remove*"))`.
    pub fn normalized(&self) -> String {
        let mut out = String::new();
        self.root.write_normalized(&mut out);
        out
    }
}

/// A condition that could not be read: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCondition {
    /// Byte offset in the condition text where reading stopped.
    pub offset: usize,
    /// What was expected or wrong there.
    pub reason: String,
    /// The condition around the offset, on one line.
    excerpt: String,
    /// Where the caret goes under `excerpt`, in characters.
    caret: usize,
}

impl BadCondition {
    /// The excerpt and a caret line under it, each line starting with
    /// `indent`.
    pub fn pointer(&self, indent: &str) -> String {
        format!(
            "{indent}{}\n{indent}{}^",
            self.excerpt,
            " ".repeat(self.caret)
        )
    }
}

impl fmt::Display for BadCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "byte {}: {}\n{}",
            self.offset,
            self.reason,
            self.pointer("  ")
        )
    }
}

/// Characters of context shown on each side of an error.
const CONTEXT: usize = 30;

/// Builds the excerpt of `text` around `offset`: at most `CONTEXT`
/// characters each side, `...` where cut, control characters shown as
/// spaces so the caret stays aligned.
fn excerpt(text: &str, offset: usize) -> (String, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before: Vec<char> = text[..offset].chars().collect();
    let after: Vec<char> = text[offset..].chars().collect();
    let start = before.len().saturating_sub(CONTEXT);
    let end = after.len().min(CONTEXT);
    let shown = |c: &char| if c.is_control() { ' ' } else { *c };
    let mut line = String::new();
    if start > 0 {
        line.push_str("...");
    }
    line.extend(before[start..].iter().map(shown));
    let caret = line.chars().count();
    line.extend(after[..end].iter().map(shown));
    if end < after.len() {
        line.push_str("...");
    }
    (line, caret)
}

/// The recursive-descent reader over the condition's bytes.
struct Parser<'a> {
    /// The whole condition.
    text: &'a str,
    /// The same, as bytes.
    bytes: &'a [u8],
    /// Offset of the next unread byte.
    pos: usize,
    /// The only field terms may test.
    field: &'a str,
    /// Current nesting of parentheses and `NOT`.
    depth: usize,
}

/// True for the bytes that end a word: white space, parentheses, quotes,
/// and the comparison characters.
fn ends_word(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()\"=!<>,".contains(&b)
}

impl<'a> Parser<'a> {
    /// An error at the current position.
    fn error(&self, reason: impl Into<String>) -> BadCondition {
        self.error_at(self.pos, reason)
    }

    /// An error at `offset`.
    fn error_at(
        &self,
        offset: usize,
        reason: impl Into<String>,
    ) -> BadCondition {
        let (excerpt, caret) = excerpt(self.text, offset);
        BadCondition {
            offset,
            reason: reason.into(),
            excerpt,
            caret,
        }
    }

    /// The next byte, if any.
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// True at the end of the text.
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Skips white space.
    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// The word starting at the current position (possibly empty), without
    /// consuming it.
    fn word(&self) -> &'a str {
        let rest = &self.bytes[self.pos..];
        let len = rest
            .iter()
            .position(|&b| ends_word(b))
            .unwrap_or(rest.len());
        &self.text[self.pos..self.pos + len]
    }

    /// Consumes `keyword` if it is the next word.
    fn keyword(&mut self, keyword: &str) -> bool {
        if self.word() == keyword {
            self.pos += keyword.len();
            return true;
        }
        false
    }

    /// A description of what is at the current position, for errors.
    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the condition".to_string(),
            Some(b) if ends_word(b) && !b.is_ascii_whitespace() => {
                format!("'{}'", b as char)
            }
            Some(_) => format!("'{}'", self.word()),
        }
    }

    /// `and_expr := or_expr ([AND] or_expr)*`, up to the end or a `)`.
    fn and_expr(&mut self) -> Result<Node, BadCondition> {
        let mut terms = vec![self.or_expr()?];
        loop {
            self.skip_space();
            match self.peek() {
                None | Some(b')') => break,
                _ => {}
            }
            if self.keyword("AND") {
                self.skip_space();
            }
            terms.push(self.or_expr()?);
        }
        Ok(Node::join(false, terms))
    }

    /// `or_expr := not_expr (OR not_expr)*`.
    fn or_expr(&mut self) -> Result<Node, BadCondition> {
        let mut terms = vec![self.not_expr()?];
        loop {
            let before = self.pos;
            self.skip_space();
            if !self.keyword("OR") {
                self.pos = before;
                break;
            }
            self.skip_space();
            terms.push(self.not_expr()?);
        }
        Ok(Node::join(true, terms))
    }

    /// `not_expr := NOT not_expr | primary`.
    fn not_expr(&mut self) -> Result<Node, BadCondition> {
        if self.keyword("NOT") {
            self.enter()?;
            self.skip_space();
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(match inner {
                Node::Not(twice) => *twice,
                other => Node::Not(Box::new(other)),
            });
        }
        self.primary()
    }

    /// Counts one more level of nesting, refusing too many.
    fn enter(&mut self) -> Result<(), BadCondition> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "parentheses and NOT nest more than {MAX_DEPTH} deep"
            )));
        }
        Ok(())
    }

    /// `primary := '(' and_expr ')' | term`.
    fn primary(&mut self) -> Result<Node, BadCondition> {
        match self.peek() {
            None => return Err(self.error("expected a term, found the end")),
            Some(b'(') => {
                let open = self.pos;
                self.pos += 1;
                self.enter()?;
                self.skip_space();
                if self.peek() == Some(b')') {
                    return Err(self.error("empty parentheses"));
                }
                let inner = self.and_expr()?;
                if self.peek() != Some(b')') {
                    return Err(self.error(format!(
                        "expected ')' to close the '(' at byte {open}, \
                         found {}",
                        self.found()
                    )));
                }
                self.pos += 1;
                self.depth -= 1;
                return Ok(inner);
            }
            Some(b'"') => {
                return Err(self.error(format!(
                    "a quoted phrase on its own searches _raw; write \
                     {}=\"...\"",
                    self.field
                )));
            }
            Some(b')') => {
                return Err(self.error("expected a term, found ')'"));
            }
            Some(_) => {}
        }
        self.term()
    }

    /// `term := field '=' value | field IN '(' list ')'`.
    fn term(&mut self) -> Result<Node, BadCondition> {
        let start = self.pos;
        let name = self.word();
        if name.is_empty() {
            return Err(self.error(format!(
                "expected a term such as {}=\"*text*\", found {}",
                self.field,
                self.found()
            )));
        }
        if matches!(name, "AND" | "OR" | "IN") {
            return Err(self.error(format!("expected a term, found {name}")));
        }
        if name.starts_with('`') {
            return Err(self.error(
                "a macro is not expanded in a condition; put it in the \
                 search before the command",
            ));
        }
        self.pos += name.len();
        let after_name = self.pos;
        self.skip_space();
        let in_list = self.word() == "IN";
        match self.peek() {
            Some(b'=') => {}
            _ if in_list => {}
            Some(b'!' | b'<' | b'>') => {
                return Err(self.error(
                    "only '=' and IN compare values here; write NOT \
                     field=value for a negation",
                ));
            }
            _ => {
                self.pos = after_name;
                return Err(self.error_at(
                    start,
                    format!(
                        "'{name}' on its own searches _raw; write \
                         {}=\"*{name}*\" to test the field",
                        self.field
                    ),
                ));
            }
        }
        if name != self.field {
            return Err(self.error_at(
                start,
                format!(
                    "the term tests field '{name}'; a condition tests only \
                     the match field {} (field names are case-sensitive); \
                     test other fields in the search before the command",
                    self.field
                ),
            ));
        }
        if in_list {
            self.pos += 2;
            return self.list();
        }
        self.pos += 1;
        self.skip_space();
        match self.value(false)? {
            Some(pattern) => Ok(Node::Leaf(pattern)),
            None => Err(self.error(format!(
                "expected a value after '=', found {}",
                self.found()
            ))),
        }
    }

    /// `list := '(' [value] (',' [value])* ')'`, right after `IN`.
    fn list(&mut self) -> Result<Node, BadCondition> {
        self.skip_space();
        if self.peek() != Some(b'(') {
            return Err(self.error(format!(
                "expected '(' after IN, found {}",
                self.found()
            )));
        }
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if let Some(pattern) = self.value(true)? {
                items.push(Node::Leaf(pattern));
            }
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return Err(self.error(format!(
                        "expected ',' or ')' in the IN list opened at byte \
                         {open}, found {}",
                        self.found()
                    )));
                }
            }
        }
        if items.is_empty() {
            return Err(self.error_at(open, "the IN list has no value"));
        }
        Ok(Node::join(true, items))
    }

    /// A quoted or unquoted value, escapes undone; `None` when there is
    /// none here (an empty list item, or nothing after `=`). In a list a
    /// `,` also ends an unquoted value.
    fn value(
        &mut self,
        in_list: bool,
    ) -> Result<Option<String>, BadCondition> {
        if self.peek() == Some(b'"') {
            return self.quoted().map(Some);
        }
        let start = self.pos;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => break,
                Some(b)
                    if b.is_ascii_whitespace() || b == b'(' || b == b')' =>
                {
                    break
                }
                Some(b',') if in_list => break,
                Some(b'"') => {
                    return Err(self.error(
                        "a quote inside an unquoted value; put the whole \
                         value in quotes and write the quote as \\\"",
                    ));
                }
                Some(b'\\') => self.escape(&mut out),
                Some(_) => self.char(&mut out),
            }
        }
        if self.pos == start {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// A quoted value starting at the current `"`.
    fn quoted(&mut self) -> Result<String, BadCondition> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(self.error_at(open, "this quote never closes"));
                }
                Some(b'"') => break,
                Some(b'\\') => self.escape(&mut out),
                Some(_) => self.char(&mut out),
            }
        }
        self.pos += 1;
        match self.peek() {
            None => {}
            Some(b) if b.is_ascii_whitespace() || b == b')' || b == b',' => {}
            Some(_) => {
                return Err(self.error(format!(
                    "expected a space, ')' or the end after the closing \
                     quote, found {}",
                    self.found()
                )));
            }
        }
        Ok(out)
    }

    /// Reads a backslash sequence into `out`.
    fn escape(&mut self, out: &mut String) {
        match self.bytes.get(self.pos + 1) {
            Some(&b @ (b'\\' | b'"' | b'|')) => {
                out.push(b as char);
                self.pos += 2;
            }
            _ => {
                out.push('\\');
                self.pos += 1;
            }
        }
    }

    /// Copies one character (UTF-8 sequence) into `out`.
    fn char(&mut self, out: &mut String) {
        let c = self.text[self.pos..].chars().next().expect("not at end");
        out.push(c);
        self.pos += c.len_utf8();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "ScriptBlockText";

    fn norm(text: &str) -> String {
        match Condition::parse(text, F) {
            Ok(c) => c.normalized(),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> BadCondition {
        Condition::parse(text, F).unwrap_err()
    }

    #[test]
    fn or_binds_tighter_than_and() {
        let a = r#"ScriptBlockText="*a*""#;
        let (b, c) = (r#"ScriptBlockText="*b*""#, r#"ScriptBlockText="*c*""#);
        assert_eq!(
            norm(&format!("{a} {b} OR {c}")),
            r#"AND("*a*", OR("*b*", "*c*"))"#
        );
        assert_eq!(
            norm(&format!("{a} AND {b} OR {c}")),
            r#"AND("*a*", OR("*b*", "*c*"))"#
        );
        assert_eq!(
            norm(&format!("{a} OR {b} {c}")),
            r#"AND(OR("*a*", "*b*"), "*c*")"#
        );
        assert_eq!(
            norm(&format!("({a} {b}) OR {c}")),
            r#"OR(AND("*a*", "*b*"), "*c*")"#
        );
    }

    #[test]
    fn not_takes_the_next_term_only() {
        let text = r#"NOT ScriptBlockText=*a* OR ScriptBlockText=*b*"#;
        assert_eq!(norm(text), r#"OR(NOT("*a*"), "*b*")"#);
        let text = r#"NOT (ScriptBlockText=*a* OR ScriptBlockText=*b*)"#;
        assert_eq!(norm(text), r#"NOT(OR("*a*", "*b*"))"#);
        assert_eq!(norm("NOT NOT ScriptBlockText=x"), r#""x""#);
        let text = r#"ScriptBlockText=*a* NOT(ScriptBlockText IN (*b*))"#;
        assert_eq!(norm(text), r#"AND("*a*", NOT("*b*"))"#);
    }

    #[test]
    fn in_lists_quoted_and_unquoted() {
        assert_eq!(
            norm(r#"ScriptBlockText IN (*a*, "*b c*","d" ,e*)"#),
            r#"OR("*a*", "*b c*", "d", "e*")"#
        );
        assert_eq!(norm(r#"ScriptBlockText IN("x")"#), r#""x""#);
        assert_eq!(
            norm(r#"ScriptBlockText IN (,"*auth *",,"*req *",)"#),
            r#"OR("*auth *", "*req *")"#
        );
    }

    #[test]
    fn spaces_around_equals_and_line_breaks() {
        assert_eq!(norm("ScriptBlockText =*a*"), r#""*a*""#);
        assert_eq!(norm("ScriptBlockText= *a*"), r#""*a*""#);
        assert_eq!(
            norm("ScriptBlockText = \"*a*\"\r\n\tScriptBlockText=b"),
            r#"AND("*a*", "b")"#
        );
    }

    #[test]
    fn escapes_in_values() {
        let c = Condition::parse(
            r#"ScriptBlockText="*a\\b\"c\|d\*e\x*" ScriptBlockText=C:\\t*"#,
            F,
        )
        .unwrap();
        assert_eq!(c.patterns(), vec![r#"*a\b"c|d\*e\x*"#, r"C:\t*"]);
    }

    #[test]
    fn keywords_are_upper_case_words() {
        // `or` is not an operator: as a bare word it is an error.
        let e = err("ScriptBlockText=a or ScriptBlockText=b");
        assert_eq!(e.offset, 18);
        // Words that start with a keyword are not keywords.
        let e = err("ScriptBlockText=a ORACLE=1");
        assert!(e.reason.contains("field 'ORACLE'"), "{}", e.reason);
        assert_eq!(e.offset, 18);
        assert_eq!(
            norm("ScriptBlockText=a OR(ScriptBlockText=b)"),
            r#"OR("a", "b")"#
        );
    }

    #[test]
    fn pattern_options_are_an_or_of_raw_patterns() {
        let c = Condition::any_of(&["*a\\\\b*", "x"]);
        assert_eq!(c.normalized(), r#"OR("*a\\\\b*", "x")"#);
        assert_eq!(Condition::any_of(&["y"]).normalized(), r#""y""#);
    }

    #[test]
    fn errors_point_at_the_byte() {
        let e = err(r#"ScriptBlockText="*a*" (ScriptBlockText="*b*""#);
        assert_eq!(e.offset, 44);
        assert_eq!(
            e.to_string(),
            "byte 44: expected ')' to close the '(' at byte 22, found the \
             end of the condition\n  ...t=\"*a*\" (ScriptBlockText=\"*b*\"\n  \
             \x20                                ^"
        );
        let e = err(r#"ScriptBlockText="*a"#);
        assert_eq!(
            (e.offset, e.reason.as_str()),
            (16, "this quote never closes")
        );
        let e = err("EventCode=4104");
        assert_eq!(e.offset, 0);
        assert!(e.reason.contains("tests field 'EventCode'"));
        let e = err("`powershell` EventCode=4104");
        assert_eq!(e.offset, 0);
        assert!(e.reason.starts_with("a macro is not expanded"));
        let e = err("Get-Process");
        assert!(e.reason.contains("searches _raw"), "{}", e.reason);
        let e = err("ScriptBlockText!=x");
        assert_eq!(e.offset, 15);
        let e = err("ScriptBlockText=a)");
        assert_eq!(
            (e.offset, e.reason.as_str()),
            (17, "a ')' that closes no '('")
        );
        let e = err("ScriptBlockText=");
        assert_eq!(e.offset, 16);
        let e = err("ScriptBlockText IN ()");
        assert_eq!(
            (e.offset, e.reason.as_str()),
            (19, "the IN list has no value")
        );
        let e = err("ScriptBlockText IN (a b)");
        assert_eq!(e.offset, 22);
        let e = err("ScriptBlockText=\"a\"b");
        assert_eq!(e.offset, 19);
        let e = err("ScriptBlockText=a\"b\"");
        assert_eq!(e.offset, 17);
        let e = err("ScriptBlockText=a AND");
        assert_eq!(e.offset, 21);
        let e = err("OR ScriptBlockText=a");
        assert_eq!(e.offset, 0);
        let e = err("  ");
        assert_eq!(e.reason, "the condition is empty");
        let e = err("()");
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let deep = format!(
            "{}ScriptBlockText=a{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        let e = err(&deep);
        assert!(e.reason.contains("nest more than 64"), "{}", e.reason);
        let nots = format!("{}ScriptBlockText=a", "NOT ".repeat(10_000));
        assert!(err(&nots).reason.contains("nest"));
        let ok =
            format!("{}ScriptBlockText=a{}", "(".repeat(60), ")".repeat(60));
        assert_eq!(norm(&ok), r#""a""#);
    }

    #[test]
    fn excerpts_are_cut_and_keep_the_caret_aligned() {
        let long = format!("ScriptBlockText=\"{}\" \"x\"", "ж".repeat(50));
        let e = err(&long);
        assert_eq!(e.offset, 119);
        let pointer = e.pointer("");
        let lines: Vec<&str> = pointer.lines().collect();
        assert!(lines[0].starts_with("..."));
        assert_eq!(lines[1].chars().count() - 1, 33);
        assert_eq!(lines[0].chars().nth(33), Some('"'));
    }
}
