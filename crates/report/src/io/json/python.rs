//! JSON as Python's `json` module writes it: standard JSON (RFC 8259) plus the bare tokens `NaN`,
//! `Infinity` and `-Infinity` that `json.dump` writes for non-finite floats (e.g. a missing power
//! reading).
//!
//! serde_json rejects those tokens, and replacing them in the text would also change strings that
//! contain them (a model named `"NaN-model"`), so this is a small recursive-descent parser. It
//! borrows numbers and escape-free strings from the text, keeps object keys in file order (a
//! repeated key: the last one wins, as in Python), and limits nesting to 128 levels, so no input
//! can exhaust the stack. String escapes are decoded by serde_json. Cost: O(length of the text).

use std::borrow::Cow;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written (it matches JSON's number grammar).
    Number(&'a str),
    /// `NaN`, `Infinity` or `-Infinity`.
    NonFinite(NonFinite),
    /// A string, decoded.
    String(Cow<'a, str>),
    /// A list.
    Array(Vec<Json<'a>>),
    /// An object's members in file order.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// The non-finite tokens of Python's `json` module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonFinite {
    /// `NaN`.
    NaN,
    /// `Infinity`.
    Infinity,
    /// `-Infinity`.
    NegInfinity,
}

impl NonFinite {
    /// The token as written.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Self::NaN => "NaN",
            Self::Infinity => "Infinity",
            Self::NegInfinity => "-Infinity",
        }
    }
}

impl Json<'_> {
    /// The value for a message: strings quoted, numbers as written, lists and objects by kind.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Bool(b) => b.to_string(),
            Self::Number(n) => (*n).to_owned(),
            Self::NonFinite(t) => t.token().into(),
            Self::String(s) => serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}")),
            Self::Array(_) => "a list".into(),
            Self::Object(_) => "an object".into(),
        }
    }
}

/// Where and why the text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Nesting deeper than this is refused (serde_json's default limit too).
const MAX_DEPTH: usize = 128;

/// Parses `text`, which must hold exactly one value (surrounding whitespace allowed).
///
/// # Errors
/// [`SyntaxError`] at the first byte that does not fit.
pub(crate) fn parse(text: &str) -> Result<Json<'_>, SyntaxError> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos < text.len() {
        return Err(parser.error("trailing characters after the value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        let pos = self.pos.min(self.text.len());
        // `pos` is always at a char boundary or at a byte that ends the input's valid prefix; find
        // the nearest boundary at or before it so slicing cannot panic.
        let boundary = (0..=pos)
            .rev()
            .find(|&i| self.text.is_char_boundary(i))
            .unwrap_or(0);
        let before = &self.text[..boundary];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        SyntaxError {
            line,
            column,
            message: message.into(),
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        if self.bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        self.skip_whitespace();
        let Some(byte) = self.peek() else {
            return Err(self.error("unexpected end of input, expected a value"));
        };
        match byte {
            b'{' | b'[' if depth >= MAX_DEPTH => {
                Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")))
            }
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Json::String),
            b'n' if self.literal("null") => Ok(Json::Null),
            b't' if self.literal("true") => Ok(Json::Bool(true)),
            b'f' if self.literal("false") => Ok(Json::Bool(false)),
            b'N' if self.literal("NaN") => Ok(Json::NonFinite(NonFinite::NaN)),
            b'I' if self.literal("Infinity") => Ok(Json::NonFinite(NonFinite::Infinity)),
            b'-' if self.literal("-Infinity") => Ok(Json::NonFinite(NonFinite::NegInfinity)),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.error("expected a value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key (a string)"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after the key"));
            }
            self.pos += 1;
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    /// A string starting at the opening quote; escapes are decoded by serde_json.
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        let start = self.pos;
        self.pos += 1; // '"'
        let mut escaped = false;
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.error("unterminated string"));
                }
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 2;
                }
                Some(0..=0x1f) => return Err(self.error("control character in a string")),
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1; // closing '"'
        let text = self.text;
        let raw = &text[start..self.pos];
        if !escaped {
            return Ok(Cow::Borrowed(&raw[1..raw.len() - 1]));
        }
        serde_json::from_str::<String>(raw)
            .map(Cow::Owned)
            .map_err(|e| {
                self.pos = start;
                self.error(format!("invalid string escape: {e}"))
            })
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<Json<'a>, SyntaxError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error("expected a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        Ok(Json::Number(&self.text[start..self.pos]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_standard_json_and_pythons_non_finite_tokens() {
        // python3 -c 'import json; print(json.dumps({"a": [float("nan"), float("inf"),
        //   -float("inf"), -0.5e3, 12], "NaN": "NaN-mod\u00e8le \"Infinity\"", "n": None,
        //   "t": True}))'
        let text = r#"{"a": [NaN, Infinity, -Infinity, -500.0, 12], "NaN": "NaN-mod\u00e8le \"Infinity\"", "n": null, "t": true}"#;
        let Json::Object(members) = parse(text).unwrap() else {
            panic!("not an object")
        };
        assert_eq!(
            members[0].1,
            Json::Array(vec![
                Json::NonFinite(NonFinite::NaN),
                Json::NonFinite(NonFinite::Infinity),
                Json::NonFinite(NonFinite::NegInfinity),
                Json::Number("-500.0"),
                Json::Number("12"),
            ])
        );
        assert_eq!(members[1].0, "NaN");
        assert_eq!(members[1].1, Json::String("NaN-modèle \"Infinity\"".into()));
        assert_eq!(
            (&members[2].1, &members[3].1),
            (&Json::Null, &Json::Bool(true))
        );
    }

    #[test]
    fn agrees_with_serde_json_on_standard_documents() {
        let text = "[{\"x\": [1, 2.5e-3, -0, \"\\ud83d\\ude00\\n\"], \"y\": {}}, [], 0]";
        let ours = parse(text).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        fn to_value(j: &Json<'_>) -> serde_json::Value {
            match j {
                Json::Null => serde_json::Value::Null,
                Json::Bool(b) => (*b).into(),
                Json::Number(n) => serde_json::from_str(n).unwrap(),
                Json::NonFinite(_) => unreachable!(),
                Json::String(s) => s.as_ref().into(),
                Json::Array(items) => items.iter().map(to_value).collect(),
                Json::Object(m) => m
                    .iter()
                    .map(|(k, v)| (k.to_string(), to_value(v)))
                    .collect::<serde_json::Map<_, _>>()
                    .into(),
            }
        }
        assert_eq!(to_value(&ours), theirs);
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        for (text, line, column, message) in [
            ("[\n  {\"a\": 1,,}\n]", 2, 11, "expected a key"),
            ("[1, nan]", 1, 5, "expected a value"),
            ("[Infinit]", 1, 2, "expected a value"),
            ("[1] 2", 1, 5, "trailing characters"),
            ("[\"abc", 1, 2, "unterminated string"),
            ("[01]", 1, 3, "expected ',' or ']'"),
            ("[1.]", 1, 4, "expected a digit after '.'"),
            ("[\"\\x\"]", 1, 2, "invalid string escape"),
            ("", 1, 1, "unexpected end of input"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(
                (e.line, e.column) == (line, column) && e.message.contains(message),
                "{text:?}: {e:?}"
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).unwrap_err().message.contains("nested deeper"));
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&ok).is_ok());
    }
}
