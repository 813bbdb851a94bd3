use report::io::{ResultsWriter, read_many, read_results};
use report::schema::{FIELDS, LEGACY_FIELD_COUNT};
use report::{Error, ResultRow};

use crate::{data, latencies, row, temp_dir};

#[test]
fn reads_the_python_tools_csv() {
    let rows = read_results(&data("python_tool.csv")).unwrap();
    assert_eq!(rows.len(), 4);
    let first = &rows[0];
    assert_eq!(
        (first.model_name.as_str(), first.model_type.as_str()),
        ("flex-bert-base", "flex_bert")
    );
    assert_eq!(
        (first.batch_size, first.sequence_length, first.num_samples),
        (8, 512, 1000)
    );
    assert_eq!(
        (
            first.mean_latency,
            first.p99_latency,
            first.tokens_per_second
        ),
        (45.23, 58.34, 90555.0)
    );
    assert_eq!(
        (first.peak_memory_mb, first.avg_gpu_power_w),
        (Some(1234.5), Some(210.5))
    );
    // Empty power cells are missing values; our extra fields are absent.
    assert_eq!(
        (rows[2].avg_gpu_power_w, rows[2].max_gpu_power_w),
        (None, None)
    );
    assert_eq!(
        (first.device.as_deref(), first.latencies_ms.as_ref()),
        (None, None)
    );
    assert_eq!(first.shape().device, "unknown");
}

#[test]
fn reads_the_python_tools_json_and_merges_files() {
    let rows = read_many(&[data("python_tool.json"), data("python_tool.csv")]).unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[1].model_name, "hf-bert-base");
    // The Python tool's CPU memory of 0.0 is read as written but not ranked as a measurement.
    assert_eq!(
        (rows[0].peak_memory_mb, rows[0].ranked_memory_mb()),
        (Some(0.0), None)
    );
    assert_eq!(rows[2].model_name, "flex-bert-base");
}

#[test]
fn writer_rewrites_both_files_after_each_record_and_round_trips() {
    let dir = temp_dir("writer");
    let csv = dir.join("results.csv");
    let mut writer = ResultsWriter::new(&csv).unwrap();
    assert_eq!(writer.json_path(), dir.join("results.json"));
    let first = row("a", "hf_bert", 1, 128, latencies(10.0, 0.05, 50, 0));
    writer.append(first.clone()).unwrap();
    // After one record both files hold exactly it: an interrupt now keeps it.
    let from_csv = read_results(&csv).unwrap();
    let from_json = read_results(&dir.join("results.json")).unwrap();
    assert_eq!(from_json, vec![first.clone()]);
    assert_eq!(
        from_csv,
        vec![ResultRow {
            latencies_ms: None,
            ..first.clone()
        }]
    );

    let mut second = row("b", "modern_bert", 8, 512, latencies(40.0, 0.05, 30, 1));
    second.p99_ci_high = None;
    second.num_parameters = Some(149_000_000);
    second.unsupported_percentiles = Some("p99;p999".into());
    writer.append(second.clone()).unwrap();
    assert_eq!(
        read_results(&dir.join("results.json")).unwrap(),
        vec![first, second]
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn csv_and_json_start_with_the_python_fields_in_order() {
    let dir = temp_dir("order");
    let mut writer = ResultsWriter::new(dir.join("r.csv")).unwrap();
    writer
        .append(row("a", "hf_bert", 1, 128, vec![1.0, 2.0]))
        .unwrap();
    let csv = std::fs::read_to_string(dir.join("r.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let python = std::fs::read_to_string(data("python_tool.csv")).unwrap();
    let python_header: Vec<&str> = python.lines().next().unwrap().split(',').collect();
    assert_eq!(&header[..LEGACY_FIELD_COUNT], python_header.as_slice());
    assert_eq!(header.len(), FIELDS.len());
    // Missing values are empty cells.
    let cells: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let power = header.iter().position(|h| *h == "avg_gpu_power_w").unwrap();
    assert_eq!(cells[power], "");

    let json = std::fs::read_to_string(dir.join("r.json")).unwrap();
    let positions: Vec<usize> = python_header
        .iter()
        .map(|k| json.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "JSON keys out of the Python order"
    );
    assert!(json.contains("\"avg_gpu_power_w\": null"));
    assert!(
        ResultsWriter::new(dir.join("r.json")).is_err(),
        "a .json output would collide"
    );
}

fn malformed(name: &str, content: &str) -> String {
    let dir = temp_dir(&format!("bad-{}", name.replace('.', "-")));
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let err = read_results(&path).unwrap_err();
    assert!(
        matches!(err, Error::Malformed { .. } | Error::UnsupportedFormat(_)),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(name),
        "error does not name the file: {message}"
    );
    message
}

fn python_csv_with(line: usize, column: &str, value: &str) -> String {
    let text = std::fs::read_to_string(data("python_tool.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let index = lines[0].split(',').position(|h| h == column).unwrap();
    let mut cells: Vec<String> = lines[line - 1].split(',').map(String::from).collect();
    cells[index] = value.into();
    lines[line - 1] = cells.join(",");
    lines.join("\n")
}

#[test]
fn malformed_csv_names_the_line_and_field() {
    let m = malformed("a.csv", &python_csv_with(3, "mean_latency", "fast"));
    assert!(
        m.contains("line 3, field 'mean_latency': 'fast' is not a number"),
        "{m}"
    );
    let m = malformed("b.csv", &python_csv_with(2, "batch_size", "-8"));
    assert!(
        m.contains("line 2, field 'batch_size': '-8' is not a non-negative integer"),
        "{m}"
    );
    let m = malformed("c.csv", &python_csv_with(4, "p95_latency", ""));
    assert!(m.contains("line 4, field 'p95_latency': is empty"), "{m}");
    let m = malformed("d.csv", &python_csv_with(2, "std_latency", "inf"));
    assert!(
        m.contains("line 2, field 'std_latency': 'inf' is not a finite number"),
        "{m}"
    );
    let m = malformed("e.csv", "model_name,model_type\nx,y\n");
    assert!(m.contains("line 1: missing column 'batch_size'"), "{m}");
    let m = malformed(
        "f.csv",
        &(std::fs::read_to_string(data("python_tool.csv")).unwrap() + "x,y,1\n"),
    );
    assert!(m.contains("line 6"), "{m}");
}

#[test]
fn malformed_json_names_the_record_and_field() {
    let m = malformed("a.json", "{\"model_name\": \"x\"}");
    assert!(m.contains("top level: expected a list of records"), "{m}");
    let m = malformed("b.json", "[1]");
    assert!(m.contains("record 1: expected an object"), "{m}");
    let text = std::fs::read_to_string(data("python_tool.json")).unwrap();
    let m = malformed(
        "c.json",
        &text.replacen("\"mean_latency\": 52.67", "\"mean_latency\": \"52.67\"", 1),
    );
    assert!(
        m.contains(
            "record 2 (model hf-bert-base), field 'mean_latency': \"52.67\" is not a number"
        ),
        "{m}"
    );
    let m = malformed("d.json", &text.replacen("\"batch_size\": 8, ", "", 1));
    assert!(
        m.contains("record 1 (model flex-bert-base), field 'batch_size': is missing"),
        "{m}"
    );
    let m = malformed("e.json", "[\n  {\"model_name\": \"x\",,}\n]");
    assert!(m.contains("line 2, column"), "{m}");
    let m = malformed(
        "f.json",
        &text.replacen("\"batch_size\": 8", "\"batch_size\": 8.5", 1),
    );
    assert!(
        m.contains(
            "record 1 (model flex-bert-base), field 'batch_size': '8.5' is not a non-negative integer"
        ),
        "{m}"
    );
    let m = malformed(
        "g.json",
        &text.replacen(
            "\"avg_gpu_power_w\": null",
            "\"latencies_ms\": [1, \"2\"]",
            1,
        ),
    );
    assert!(
        m.contains(
            "record 1 (model flex-bert-base), field 'latencies_ms': element 2 is \"2\", not a number"
        ),
        "{m}"
    );
    let m = malformed(
        "h.json",
        &text.replacen("\"avg_gpu_power_w\": null", "\"latencies_ms\": 5", 1),
    );
    assert!(
        m.contains("field 'latencies_ms': 5 is not a list of numbers"),
        "{m}"
    );
}

#[test]
fn other_extensions_and_missing_files_are_errors() {
    let m = malformed("results.txt", "anything");
    assert!(m.contains("expected a .csv or .json file"), "{m}");
    let err = read_results(std::path::Path::new("/nonexistent/r.csv")).unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.to_string().contains("/nonexistent/r.csv"),
        "{err}"
    );
}

/// Issue 13, item 6: Python's `json.dump` writes `NaN`/`Infinity`/`-Infinity` for non-finite
/// floats (a missing power reading). The fixtures are written by Python (`make_fixtures.py`).
#[test]
fn issue_13_python_non_finite_values_are_missing_in_optional_fields() {
    let rows = read_results(&data("python_nan.json")).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[0].avg_gpu_power_w, rows[0].max_gpu_power_w),
        (None, None)
    );
    assert_eq!(
        (rows[0].mean_latency, rows[0].peak_memory_mb),
        (45.23, Some(1234.5))
    );
    // Strings holding the tokens, quotes and escapes stay strings.
    assert_eq!(rows[1].model_name, "NaN-model \"Infinity\" \u{e9}");
    assert_eq!(rows[1].model_type, "NaN");
    assert_eq!(
        (
            rows[1].avg_gpu_power_w,
            rows[1].max_gpu_power_w,
            rows[1].peak_memory_mb
        ),
        (None, None, None)
    );
    assert_eq!(rows[1].median_latency, 48.61);
    // Raw latencies are read as written; whether they are usable is the analysis's call.
    let raw = rows[2].latencies_ms.as_deref().unwrap();
    assert_eq!((raw.len(), raw[0], raw[2]), (3, 52.0, 53.1));
    assert!(raw[1].is_nan());

    // Python's csv module writes the same records with nan/inf/-inf: the same rows come back.
    let from_csv = read_results(&data("python_nan.csv")).unwrap();
    let without_raw: Vec<ResultRow> = rows
        .into_iter()
        .map(|r| ResultRow {
            latencies_ms: None,
            ..r
        })
        .collect();
    assert_eq!(from_csv, without_raw);
}

#[test]
fn issue_13_non_finite_in_a_required_field_names_record_model_and_field() {
    let err = read_results(&data("python_nan_required.json")).unwrap_err();
    let m = err.to_string();
    assert!(matches!(err, Error::Malformed { .. }), "{err:?}");
    assert!(
        m.contains(
            "python_nan_required.json: record 2 (model hf-bert-base), field 'mean_latency': is NaN"
        ),
        "{m}"
    );
    // The same in CSV.
    let m = malformed("nan.csv", &python_csv_with(3, "mean_latency", "nan"));
    assert!(
        m.contains("line 3, field 'mean_latency': 'nan' is not a finite number"),
        "{m}"
    );
}
