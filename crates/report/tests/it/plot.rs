use report::ResultRow;
use report::plot::write_charts;

use crate::{latencies, row, temp_dir};

fn variant(
    name: &str,
    inputs: Option<&str>,
    boundary: Option<&str>,
    host: Option<&str>,
) -> ResultRow {
    let mut r = row(name, "hf_bert", 1, 128, latencies(10.0, 0.05, 50, 0));
    r.inputs = inputs.map(Into::into);
    r.time_boundary = boundary.map(Into::into);
    r.host_name = host.map(Into::into);
    r
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Issue 13, item 9: one distribution chart per group, named by every grouping field, safe for
/// any file system; none overwrites another.
#[test]
fn issue_13_chart_names_hold_every_grouping_field_and_never_collide() {
    let long_host = "h".repeat(300);
    let mut rows = Vec::new();
    for model in ["model-a", "model-b"] {
        rows.extend([
            variant(model, None, None, None),
            variant(model, Some("uniform:64..128"), None, None),
            variant(model, None, Some("forward+transfer"), None),
            variant(model, Some("text:/data/my corpus.txt"), None, None),
            // "x:y" and "x/y" reduce to the same text: the second gets a suffix.
            variant(model, Some("file:x:y"), None, None),
            variant(model, Some("file:x/y"), None, None),
            variant(model, None, None, Some("node-1")),
            variant(model, None, None, Some(&long_host)),
        ]);
    }
    let dir = temp_dir("plot-names");
    let written = write_charts(&rows, &dir, false).unwrap();
    let names = names(&dir);
    assert_eq!((written.len(), names.len()), (8, 8), "{names:#?}");
    let stem = "latency_distribution_b1_s128_cpu_fp32";
    for expected in [
        format!("{stem}_full_forward_unknown-machine.svg"),
        format!("{stem}_uniform-64..128_forward_unknown-machine.svg"),
        format!("{stem}_full_forward-transfer_unknown-machine.svg"),
        format!("{stem}_text-data-my-corpus.txt_forward_unknown-machine.svg"),
        format!("{stem}_file-x-y_forward_unknown-machine.svg"),
        format!("{stem}_file-x-y_forward_unknown-machine-2.svg"),
        format!("{stem}_full_forward_unknown-device-on-node-1.svg"),
    ] {
        assert!(names.contains(&expected), "{expected} not in {names:#?}");
    }
    for name in &names {
        assert!(
            name.len() < 255
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "{name}"
        );
    }

    // Box labels are the model names, without Debug quotes.
    let svg = std::fs::read_to_string(dir.join(format!("{stem}_full_forward_unknown-machine.svg")))
        .unwrap();
    let label = |name: &str| format!("\n{name}\n</text>");
    assert!(
        svg.contains(&label("model-a")) && svg.contains(&label("model-b")),
        "{svg}"
    );
    assert!(
        !svg.contains("&quot;") && !svg.contains("\"model-a\""),
        "{svg}"
    );

    // Ignoring the machine merges the three machine variants of each input and boundary.
    let merged = temp_dir("plot-merged");
    let written = write_charts(&rows, &merged, true).unwrap();
    assert_eq!(written.len(), 6);
    assert!(
        self::names(&merged).contains(&format!("{stem}_full_forward.svg")),
        "{:#?}",
        self::names(&merged)
    );
}

#[test]
fn unusable_raw_latencies_are_left_out_of_charts_without_failing() {
    let mut bad = variant("nan", None, None, None);
    bad.latencies_ms = Some(vec![1.0, f64::NAN]);
    let dir = temp_dir("plot-nan");
    let written = write_charts(&[bad, variant("ok", None, None, None)], &dir, false).unwrap();
    assert_eq!(written.len(), 1);
    let svg = std::fs::read_to_string(&written[0]).unwrap();
    assert!(
        svg.contains("\nok\n</text>") && !svg.contains("\nnan\n</text>"),
        "{svg}"
    );
}
