//! JSON results files: a list of objects with the schema's keys, plus optional `latencies_ms`.
//!
//! Files written by Python's `json.dump` may hold `NaN`, `Infinity` or `-Infinity` (e.g. for a
//! missing power reading): in an optional field they are read as missing values; in a required
//! field they are an error naming the record and the field. See [`python`].

mod python;

use std::path::Path;

use serde_json::{Map, Value};

use self::python::Json;
use super::csv::parse_count;
use crate::error::{Error, Result};
use crate::schema::{
    FIELDS, Kind, LATENCIES_FIELD, ROUND_LATENCIES_FIELD, ResultRow, WARMUP_LATENCIES_FIELD,
};

/// Parses JSON `text` read from `path`. Unknown keys are ignored; the Python tool's required keys
/// must be present.
pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<ResultRow>> {
    let malformed = |location: String, message: String| Error::Malformed {
        path: path.to_owned(),
        location,
        message,
    };
    let document = python::parse(text).map_err(|e| {
        malformed(
            format!("line {}, column {}", e.line, e.column),
            format!("invalid JSON: {}", e.message),
        )
    })?;
    let Json::Array(records) = document else {
        return Err(malformed(
            "top level".into(),
            "expected a list of records".into(),
        ));
    };
    let mut rows = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let number = index + 1;
        let Json::Object(members) = record else {
            return Err(malformed(
                format!("record {number}"),
                "expected an object".into(),
            ));
        };
        // A repeated key: the last one wins, as in Python and serde_json.
        let get = |name: &str| {
            members
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value)
        };
        let record_name = match get("model_name") {
            Some(Json::String(name)) => format!("record {number} (model {name})"),
            _ => format!("record {number}"),
        };
        let mut object = Map::new();
        for field in FIELDS {
            let location = || format!("{record_name}, field '{}'", field.name);
            let value = convert(field.kind, field.required, get(field.name))
                .map_err(|message| malformed(location(), message))?;
            object.insert(field.name.to_owned(), value);
        }
        let list = |field: &str| -> Result<Option<Vec<f64>>> {
            match get(field) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::Array(values)) => values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| latency(v).ok_or(i))
                    .collect::<Result<Vec<f64>, usize>>()
                    .map(Some)
                    .map_err(|i| {
                        malformed(
                            format!("{record_name}, field '{field}'"),
                            format!(
                                "element {} is {}, not a number",
                                i + 1,
                                values[i].describe()
                            ),
                        )
                    }),
                Some(other) => Err(malformed(
                    format!("{record_name}, field '{field}'"),
                    format!("{} is not a list of numbers", other.describe()),
                )),
            }
        };
        let latencies = list(LATENCIES_FIELD)?;
        let round_latencies = list(ROUND_LATENCIES_FIELD)?;
        let warmup_latencies = list(WARMUP_LATENCIES_FIELD)?;
        let mut row: ResultRow = serde_json::from_value(Value::Object(object))
            .map_err(|e| malformed(record_name.clone(), e.to_string()))?;
        // Set after serde: a non-finite raw latency has no serde_json value. Whether the raw
        // latencies are usable is the analysis's call, made once per record (it skips their
        // intervals and says why), not a reason to reject the file.
        row.latencies_ms = latencies;
        row.round_latencies_ms = round_latencies;
        row.warmup_latencies_ms = warmup_latencies;
        rows.push(row);
    }
    Ok(rows)
}

/// One field's JSON value as a typed serde_json value, or why it does not fit.
fn convert(kind: Kind, required: bool, value: Option<&Json<'_>>) -> Result<Value, String> {
    let want = match kind {
        Kind::Text => "a string",
        Kind::Count => "a non-negative integer",
        Kind::Number => "a number",
    };
    match value {
        None | Some(Json::Null) if required => Err("is missing".into()),
        None | Some(Json::Null) => Ok(Value::Null),
        // Python's json.dump writes non-finite floats as bare tokens: a missing measurement.
        Some(Json::NonFinite(_)) if !required => Ok(Value::Null),
        Some(Json::NonFinite(token)) => Err(format!(
            "is {}, but this field is required to be {want}",
            token.token()
        )),
        Some(Json::String(s)) if kind == Kind::Text => Ok(Value::String(s.to_string())),
        Some(Json::Number(n)) if kind == Kind::Count => parse_count(n).map(Value::from),
        Some(Json::Number(n)) if kind == Kind::Number => match n.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::from(x)),
            _ => Err(format!("{n} is not a finite number")),
        },
        Some(other) => Err(format!("{} is not {want}", other.describe())),
    }
}

/// A raw latency: any number, non-finite ones included (the analysis judges them).
fn latency(value: &Json<'_>) -> Option<f64> {
    match value {
        Json::Number(n) => n.parse().ok(),
        Json::NonFinite(python::NonFinite::NaN) => Some(f64::NAN),
        Json::NonFinite(python::NonFinite::Infinity) => Some(f64::INFINITY),
        Json::NonFinite(python::NonFinite::NegInfinity) => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// The JSON text of `rows`: a pretty-printed list, schema keys in order, `null` for missing.
pub(super) fn render(rows: &[ResultRow]) -> Result<String> {
    let mut text = serde_json::to_string_pretty(rows).map_err(|e| Error::io("<json>", e.into()))?;
    text.push('\n');
    Ok(text)
}
