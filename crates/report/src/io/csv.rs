//! CSV results files: a header row, then one record per line; empty cells are missing values.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::schema::{FIELDS, Field, Kind, ResultRow};

/// Parses CSV `text` read from `path`. Columns are matched by name, so extra or reordered columns
/// are fine; the Python tool's required columns must be present.
pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<ResultRow>> {
    let malformed = |location: String, message: String| Error::Malformed {
        path: path.to_owned(),
        location,
        message,
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| malformed("line 1".into(), format!("unreadable header: {e}")))?
        .clone();
    let columns: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim(), i))
        .collect();
    if let Some(missing) = FIELDS
        .iter()
        .find(|f| f.required && !columns.contains_key(f.name))
    {
        return Err(malformed(
            "line 1".into(),
            format!("missing column '{}'", missing.name),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            malformed(format!("line {line}"), e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let mut object = Map::new();
        for field in FIELDS {
            let Some(&index) = columns.get(field.name) else {
                continue;
            };
            let cell = record.get(index).unwrap_or("").trim();
            let value = parse_cell(field, cell).map_err(|message| {
                malformed(format!("line {line}, field '{}'", field.name), message)
            })?;
            object.insert(field.name.to_owned(), value);
        }
        let row = serde_json::from_value(Value::Object(object))
            .map_err(|e| malformed(format!("line {line}"), e.to_string()))?;
        rows.push(row);
    }
    Ok(rows)
}

/// One cell as a typed JSON value, or why it does not fit its field. In an optional number field,
/// a non-finite value (`nan`, `inf`, `-inf`, as pandas and Python's csv module write them) is a
/// missing value, as `NaN` is in JSON files.
fn parse_cell(field: &Field, cell: &str) -> Result<Value, String> {
    if cell.is_empty() {
        return if field.required {
            Err("is empty".into())
        } else {
            Ok(Value::Null)
        };
    }
    match field.kind {
        Kind::Text => Ok(Value::String(cell.to_owned())),
        Kind::Count => parse_count(cell).map(Value::from),
        Kind::Number => {
            let x: f64 = cell
                .parse()
                .map_err(|_| format!("'{cell}' is not a number"))?;
            match (x.is_finite(), field.required) {
                (true, _) => Ok(Value::from(x)),
                (false, false) => Ok(Value::Null),
                (false, true) => Err(format!("'{cell}' is not a finite number")),
            }
        }
    }
}

/// A non-negative integer; `8.0` is accepted, as pandas writes integers stored as floats.
pub(super) fn parse_count(cell: &str) -> Result<u64, String> {
    if let Ok(n) = cell.parse::<u64>() {
        return Ok(n);
    }
    match cell.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(53) => Ok(x as u64),
        _ => Err(format!("'{cell}' is not a non-negative integer")),
    }
}

/// The CSV text of `rows`: every schema column, in order; missing values are empty cells.
pub(super) fn render(rows: &[ResultRow]) -> Result<String> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let to_io = |e: ::csv::Error| Error::io("<csv>", std::io::Error::other(e));
    writer
        .write_record(FIELDS.iter().map(|f| f.name))
        .map_err(to_io)?;
    for row in rows {
        let value = serde_json::to_value(row).map_err(|e| Error::io("<csv>", e.into()))?;
        let cells = FIELDS.iter().map(|f| match &value[f.name] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        writer.write_record(cells).map_err(to_io)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::io("<csv>", std::io::Error::other(e.to_string())))?;
    String::from_utf8(bytes).map_err(|e| Error::io("<csv>", std::io::Error::other(e)))
}
