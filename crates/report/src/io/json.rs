//! JSON results files: a list of objects with the schema's keys, plus optional `latencies_ms`.

use std::path::Path;

use serde_json::{Map, Value};

use super::csv::parse_count;
use crate::error::{Error, Result};
use crate::schema::{FIELDS, Kind, LATENCIES_FIELD, ResultRow};

/// Parses JSON `text` read from `path`. Unknown keys are ignored; the Python tool's required keys
/// must be present.
pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<ResultRow>> {
    let malformed = |location: String, message: String| Error::Malformed {
        path: path.to_owned(),
        location,
        message,
    };
    let document: Value = serde_json::from_str(text).map_err(|e| {
        malformed(
            format!("line {}, column {}", e.line(), e.column()),
            format!("invalid JSON: {e}"),
        )
    })?;
    let Value::Array(records) = document else {
        return Err(malformed(
            "top level".into(),
            "expected a list of records".into(),
        ));
    };
    let mut rows = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let number = index + 1;
        let Value::Object(mut record) = record else {
            return Err(malformed(
                format!("record {number}"),
                "expected an object".into(),
            ));
        };
        let mut object = Map::new();
        for field in FIELDS {
            let location = || format!("record {number}, field '{}'", field.name);
            let value = match record.remove(field.name).unwrap_or(Value::Null) {
                Value::Null if field.required => {
                    return Err(malformed(location(), "is missing".into()));
                }
                Value::Null => Value::Null,
                Value::String(s) if field.kind == Kind::Text => Value::String(s),
                Value::Number(n) if field.kind == Kind::Number => Value::Number(n),
                Value::Number(n) if field.kind == Kind::Count => {
                    Value::from(parse_count(&n.to_string()).map_err(|m| malformed(location(), m))?)
                }
                other => {
                    let want = match field.kind {
                        Kind::Text => "a string",
                        Kind::Count => "a non-negative integer",
                        Kind::Number => "a number",
                    };
                    return Err(malformed(location(), format!("{other} is not {want}")));
                }
            };
            object.insert(field.name.to_owned(), value);
        }
        match record.remove(LATENCIES_FIELD) {
            None | Some(Value::Null) => {}
            Some(Value::Array(values))
                if values.iter().all(|v| v.as_f64().is_some_and(|x| x >= 0.0)) =>
            {
                object.insert(LATENCIES_FIELD.to_owned(), Value::Array(values));
            }
            Some(_) => {
                return Err(malformed(
                    format!("record {number}, field '{LATENCIES_FIELD}'"),
                    "expected a list of non-negative numbers".into(),
                ));
            }
        }
        let row = serde_json::from_value(Value::Object(object))
            .map_err(|e| malformed(format!("record {number}"), e.to_string()))?;
        rows.push(row);
    }
    Ok(rows)
}

/// The JSON text of `rows`: a pretty-printed list, schema keys in order, `null` for missing.
pub(super) fn render(rows: &[ResultRow]) -> Result<String> {
    let mut text = serde_json::to_string_pretty(rows).map_err(|e| Error::io("<json>", e.into()))?;
    text.push('\n');
    Ok(text)
}
