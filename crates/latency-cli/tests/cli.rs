//! Runs the real `latency-analysis` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_latency-analysis"))
}

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("latency-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Two tiny models, small enough to measure in a second on a CPU.
const TINY: &str = r#"
models:
  - name: "tiny-bert"
    model_type: "hf_bert"
    task_type: "classification"
    num_labels: 2
    model_config: {hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 128}
  - name: "tiny-modernbert"
    model_type: "modern_bert"
    task_type: "mlm"
    model_config: {hidden_size: 32, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 48, vocab_size: 128, local_attention: 8}
"#;

fn run_with(config: &str, extra: &[&str], test: &str) -> (Output, PathBuf) {
    let dir = temp_dir(test);
    let config_path = dir.join("config.yaml");
    std::fs::write(&config_path, config).unwrap();
    let csv = dir.join("results.csv");
    let out = Command::new(binary())
        .env_remove("LD_LIBRARY_PATH")
        .arg("--config-file")
        .arg(&config_path)
        .arg("--output-file")
        .arg(&csv)
        .args([
            "--device",
            "cpu",
            "--threads",
            "1",
            "--warmup-batches",
            "2",
            "--measure-batches",
            "5",
        ])
        .args(extra)
        .output()
        .unwrap();
    (out, csv)
}

#[test]
fn measures_tiny_models_at_two_shapes_and_writes_both_files() {
    let (out, csv) = run_with(
        TINY,
        &["--batch-size", "1,2", "--sequence-length", "16"],
        "tiny",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let python = "model_name,model_type,batch_size,sequence_length,num_samples,mean_latency,median_latency,\
        std_latency,min_latency,max_latency,p95_latency,p99_latency,tokens_per_second,samples_per_second,\
        peak_memory_mb,allocated_memory_mb,avg_gpu_power_w,max_gpu_power_w";
    assert!(header.starts_with(python), "{header}");
    assert_eq!(lines.count(), 4, "2 models x 2 batch sizes");
    let rows = report::io::read_results(&csv).unwrap();
    let json = report::io::read_results(&csv.with_extension("json")).unwrap();
    assert_eq!(rows.len(), 4);
    for (row, full) in rows.iter().zip(&json) {
        assert!(
            row.mean_latency > 0.0
                && row.min_latency <= row.median_latency
                && row.median_latency <= row.max_latency
        );
        let expect_tps = (row.batch_size * row.sequence_length) as f64 / (row.mean_latency / 1e3);
        assert!((row.tokens_per_second - expect_tps).abs() < 1e-6 * expect_tps);
        assert_eq!(full.latencies_ms.as_ref().unwrap().len(), 5);
        assert_eq!(
            (row.device.as_deref(), row.dtype.as_deref(), row.num_threads),
            (Some("cpu"), Some("fp32"), Some(1))
        );
        assert_eq!(row.memory_kind.as_deref(), Some("host"));
        assert!(row.num_parameters.unwrap() > 0 && row.gflops_per_forward.unwrap() > 0.0);
    }
    assert_eq!(rows[0].model_name, "tiny-bert");
    assert_eq!(rows[3].model_type, "modern_bert");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Latency Analysis Results"));
}

#[test]
fn binaries_link_libtorch_cuda() {
    let cuda_build = option_env!("BERT_LATENCY_LIBTORCH_CUDA") == Some("1");
    assert!(
        cuda_build,
        "this test expects the CUDA libtorch that `cargo xtask bootstrap` installs"
    );
    assert_links_libtorch_cuda(&binary());
    // The release binary sits beside the debug one: target/{debug,release}/latency-analysis.
    let release = binary()
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("release").join("latency-analysis"))
        .unwrap();
    if release.exists() {
        assert_links_libtorch_cuda(&release);
    } else if std::env::var_os("BERT_LATENCY_REQUIRE_RELEASE_BINARY").is_some() {
        panic!(
            "{} is missing: build it with `cargo build --release -p latency-cli`",
            release.display()
        );
    } else {
        eprintln!(
            "note: {} not built; only the debug binary was checked",
            release.display()
        );
    }
}

/// The entries of the binary's dynamic section marked NEEDED, read with `readelf -d`.
fn needed_libraries(binary: &Path) -> Vec<String> {
    let output = Command::new("readelf")
        .args(["-d", "--wide"])
        .arg(binary)
        .output()
        .expect("readelf (binutils) must be installed to check the linkage");
    assert!(
        output.status.success(),
        "readelf failed on {}",
        binary.display()
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| Some(line.split('[').nth(1)?.trim_end_matches(']').to_owned()))
        .collect()
}

fn assert_links_libtorch_cuda(binary: &Path) {
    let needed = needed_libraries(binary);
    assert!(
        needed.iter().any(|lib| lib == "libtorch_cuda.so"),
        "{} does not list libtorch_cuda.so as NEEDED (so CUDA would be unavailable): {needed:?}",
        binary.display()
    );
}

#[test]
fn config_errors_name_the_entry_and_key_and_nothing_runs() {
    let cases = [
        ("models:\n  - name: [x\n", "line 2"),
        (
            "models:\n  - name: a\n    model_type: hf_bert\n    colour: red\n",
            "unknown field `colour`",
        ),
        (
            "models:\n  - name: a\n    model_type: gpt\n",
            "unknown variant `gpt`",
        ),
        (
            "models:\n  - name: a\n    model_type: hf_bert\n  - name: b\n    model_type: hf_bert\n    model_config: {hiden_size: 3}\n",
            "entry 2 ('b'): model_config: unknown key 'hiden_size'",
        ),
        (
            "models:\n  - name: a\n    model_type: hf_bert\n    pretrained_checkpoint: /nonexistent/w.safetensors\n",
            "entry 1 ('a'): pretrained_checkpoint: checkpoint /nonexistent/w.safetensors: does not exist",
        ),
        ("models: []\n", "the models list is empty"),
    ];
    for (i, (config, want)) in cases.into_iter().enumerate() {
        let (out, csv) = run_with(config, &[], &format!("bad{i}"));
        assert_eq!(out.status.code(), Some(2), "{config}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{config}: {}", stderr(&out));
        assert!(!csv.exists(), "nothing may run on a bad config");
    }
}

#[test]
fn a_failing_model_is_reported_and_the_others_still_run() {
    // Sequence 600 exceeds BERT's 512 positions; the ModernBERT entry still runs.
    let config = TINY.replace(
        "vocab_size: 128}\n  - name",
        "vocab_size: 128, max_position_embeddings: 16}\n  - name",
    );
    let (out, csv) = run_with(&config, &["--sequence-length", "20"], "partial");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tiny-bert (batch 8, seq 20): inputs: sequence length 20 exceeds"),
        "{}",
        stderr(&out)
    );
    let rows = report::io::read_results(&csv).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].model_name, "tiny-modernbert");
}

#[test]
fn cuda_without_a_gpu_is_a_clear_error() {
    if !Path::new("/dev/nvidia0").exists() {
        let output = Command::new(binary())
            .args(["--device", "cuda"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("device 'cuda' requested, but libtorch sees no CUDA device"),
            "{stderr}"
        );
    }
    let output = Command::new(binary())
        .args(["--device", "tpu"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown device 'tpu'"));
}

#[test]
fn dry_run_prints_sizes_and_runs_nothing() {
    let (out, csv) = run_with(TINY, &["--dry-run", "--sequence-length", "16"], "dry");
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // One line per job of the plan: id, label, size and cost.
    assert!(
        stdout.starts_with("plan ") && stdout.contains("(2 jobs)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("tiny-bert (batch 8, seq 16): hf_bert (classification),")
            && stdout.contains("GFLOP per forward, inputs full, timed forward"),
        "{stdout}"
    );
    let ids: Vec<&str> = stdout
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert!(
        ids.len() == 2 && ids.iter().all(|id| id.len() == 16),
        "{stdout}"
    );
    assert!(!csv.exists() && !csv.parent().unwrap().join("results.json").exists());
    // With --json the same plan comes as a JSON list, standard output holding nothing else.
    let (out, _) = run_with(
        TINY,
        &["--dry-run", "--sequence-length", "16", "--json"],
        "dry-json",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let jobs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let json_ids: Vec<&str> = jobs.iter().map(|j| j["job_id"].as_str().unwrap()).collect();
    assert_eq!(json_ids, ids);
    assert!(jobs[0]["num_parameters"].as_u64().unwrap() > 0);
    // A dry run longer than BERT's positions fails the job as the run would.
    let (out, _) = run_with(TINY, &["--dry-run", "--sequence-length", "600"], "dry-long");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exceeds the model's max_position_embeddings"),
        "{}",
        stderr(&out)
    );
    // Reading only the first line (`| head -1`) ends the run quietly, not with a panic.
    let mut child = Command::new(binary())
        .args([
            "--config-file",
            "/nonexistent.yaml",
            "--device",
            "cpu",
            "--dry-run",
        ])
        .args(["--batch-size", "1,2,3,4,5,6,7,8"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn missing_config_file_uses_the_builtin_default() {
    let out = Command::new(binary())
        .args([
            "--config-file",
            "/nonexistent/latency_config.yaml",
            "--dry-run",
            "--device",
            "cpu",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not found: using the built-in default config (3 models)"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in ["modernbert-base", "mosaic-bert-base", "bert-base"] {
        assert!(
            stdout.contains(&format!("{name} (batch 8, seq 512): ")),
            "{stdout}"
        );
    }
}

#[test]
fn help_lists_every_python_flag() {
    let output = Command::new(binary()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--config-file",
        "--output-file",
        "--batch-size",
        "--sequence-length",
        "--num-samples",
        "--warmup-batches",
        "--measure-batches",
        "--device",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn ctrl_c_after_the_first_model_keeps_its_record() {
    interrupt_after_the_first_record("-INT");
}

#[test]
fn sigterm_is_treated_like_the_first_ctrl_c() {
    interrupt_after_the_first_record("-TERM");
}

fn interrupt_after_the_first_record(signal: &str) {
    // The second model is slow enough to be interrupted while it is measured.
    let config = r#"
models:
  - name: "quick"
    model_type: "hf_bert"
    model_config: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 64, vocab_size: 128}
  - name: "slow"
    model_type: "hf_bert"
    model_config: {hidden_size: 256, num_hidden_layers: 8, num_attention_heads: 4, intermediate_size: 1024, vocab_size: 128}
"#;
    let dir = temp_dir(&format!("interrupt{signal}"));
    std::fs::write(dir.join("config.yaml"), config).unwrap();
    let csv = dir.join("results.csv");
    let child = Command::new(binary())
        .arg("--config-file")
        .arg(dir.join("config.yaml"))
        .arg("--output-file")
        .arg(&csv)
        .args([
            "--device",
            "cpu",
            "--threads",
            "1",
            "--warmup-batches",
            "1",
            "--measure-batches",
            "1000",
            "--num-samples",
            "100000",
        ])
        .args(["--batch-size", "1", "--sequence-length", "64"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !csv.exists() {
        assert!(
            started.elapsed().as_secs() < 120,
            "the first record never arrived"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Whenever the signal comes after the first record, the result is the same: the run stops
    // at the next batch (or before the next model) with that one record.
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted: 1 record(s) saved"),
        "{}",
        stderr(&out)
    );
    let rows = report::io::read_results(&csv).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].model_name, "quick");
    assert_eq!(
        report::io::read_results(&csv.with_extension("json"))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn adaptive_stopping_and_time_budget_change_the_sample_count() {
    // A time budget of 0.5 s takes far more than the 5 batches --measure-batches asks for.
    let (out, csv) = run_with(
        TINY,
        &[
            "--batch-size",
            "1",
            "--sequence-length",
            "16",
            "--min-time",
            "0.5",
        ],
        "budget",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = report::io::read_results(&csv.with_extension("json")).unwrap();
    assert!(
        rows.iter()
            .all(|r| r.latencies_ms.as_ref().unwrap().len() > 5),
        "{:?}",
        rows.iter().map(|r| r.measure_batches).collect::<Vec<_>>()
    );
    // An impossible target within 0.3 s: it stops at --max-time and says the target was missed.
    let (out, csv) = run_with(
        TINY,
        &[
            "--batch-size",
            "1",
            "--sequence-length",
            "16",
            "--target-ci",
            "0.000001",
            "--max-time",
            "0.3",
        ],
        "adaptive",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("did not narrow to the --target-ci width"),
        "{}",
        stderr(&out)
    );
    assert_eq!(report::io::read_results(&csv).unwrap().len(), 2);
}

fn model_zoo_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../model-zoo/tests/data")
        .join(name)
}

const ONE_TINY: &str = r#"
models:
  - name: "tiny-bert"
    model_type: "hf_bert"
    task_type: "classification"
    num_labels: 2
    model_config: {hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 128}
"#;

#[test]
fn ragged_inputs_record_real_tokens_and_padding() {
    let (out, csv) = run_with(
        ONE_TINY,
        &[
            "--batch-size",
            "2",
            "--sequence-length",
            "16",
            "--lengths",
            "fill:0.5",
        ],
        "ragged",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let row = &report::io::read_results(&csv.with_extension("json")).unwrap()[0];
    assert_eq!(row.inputs.as_deref(), Some("fill:0.5"));
    assert_eq!(row.padding_fraction, Some(0.5));
    // 5 measured batches of 2 rows with 8 real tokens each = 80 real tokens over the measured time.
    let measured_s = row.latencies_ms.as_ref().unwrap().iter().sum::<f64>() / 1e3;
    let real = row.real_tokens_per_second.unwrap() * measured_s;
    assert!((real - 80.0).abs() < 1e-6, "{real}");
    // tokens_per_second keeps the Python tool's meaning: batch x sequence length per mean latency.
    assert!(
        (row.tokens_per_second - 32.0 / (row.mean_latency / 1e3)).abs()
            < 1e-6 * row.tokens_per_second
    );
    assert!(stderr(&out).contains("% padding"), "{}", stderr(&out));
}

#[test]
fn text_inputs_use_the_tokenizer_and_count_its_tokens() {
    let text = model_zoo_data("texts.txt");
    let tokenizer = model_zoo_data("tokenizer.json");
    let (out, csv) = run_with(
        ONE_TINY,
        &[
            "--batch-size",
            "2",
            "--sequence-length",
            "64",
            "--text-file",
            text.to_str().unwrap(),
            "--tokenizer",
            tokenizer.to_str().unwrap(),
        ],
        "text",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let row = &report::io::read_results(&csv.with_extension("json")).unwrap()[0];
    assert_eq!(
        row.inputs.as_deref(),
        Some(&*format!("text:{}", text.display()))
    );
    // Five lines in 5 batches of 2 rows: the measured batches hold every line twice.
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(model_zoo_data("texts_expected.json")).unwrap(),
    )
    .unwrap();
    let lengths: usize = expected["64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_array().unwrap().len())
        .sum();
    let padding = 1.0 - (2 * lengths) as f64 / (5.0 * 2.0 * 64.0);
    assert!(
        (row.padding_fraction.unwrap() - padding).abs() < 1e-12,
        "{row:?}"
    );
}

#[test]
fn bad_input_files_stop_the_run_before_any_model() {
    let dir = temp_dir("bad-inputs");
    let tokenizer = model_zoo_data("tokenizer.json");
    let missing = dir.join("no-texts.txt");
    let (out, csv) = run_with(
        ONE_TINY,
        &[
            "--text-file",
            missing.to_str().unwrap(),
            "--tokenizer",
            tokenizer.to_str().unwrap(),
        ],
        "bad-text",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-texts.txt"), "{}", stderr(&out));
    assert!(!csv.exists());
    let (out, _) = run_with(ONE_TINY, &["--lengths", "uniform:9..3"], "bad-lengths");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("uniform:MIN..MAX"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_flag_keeps_stdout_pure_json_and_warnings_are_repeated_after_the_table() {
    let (out, _) = run_with(
        ONE_TINY,
        &[
            "--batch-size",
            "1",
            "--sequence-length",
            "8",
            "--json",
            "--include-transfer",
        ],
        "json",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["time_boundary"], "forward", "no copy on the CPU");
    let err = stderr(&out);
    assert!(
        err.contains("Latency Analysis Results"),
        "the table moves to stderr: {err}"
    );
    let table = err.find("Latency Analysis Results").unwrap();
    let block = err.find("1 warning(s):").expect("a warnings block");
    assert!(block > table, "{err}");
    assert!(
        err[block..].contains("--include-transfer has no effect on the CPU"),
        "{err}"
    );
}

#[test]
fn a_torchscript_model_runs_beside_the_built_in_ones() {
    let config = format!(
        "{ONE_TINY}  - name: \"traced\"\n    model_type: \"torchscript\"\n    pretrained_checkpoint: \"{}\"\n    model_config: {{vocab_size: 50}}\n",
        model_zoo_data("script_tuple.pt").display()
    );
    let (out, csv) = run_with(
        &config,
        &["--batch-size", "2", "--sequence-length", "8"],
        "torchscript",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = report::io::read_results(&csv.with_extension("json")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[1].model_name.as_str(), rows[1].model_type.as_str()),
        ("traced", "torchscript")
    );
    assert!(rows[1].mean_latency > 0.0 && rows[1].num_parameters.unwrap() > 0);
    assert_eq!(
        rows[1].gflops_per_forward, None,
        "FLOPs of an unknown architecture"
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    // One batch of this model takes seconds on one thread: the first Ctrl-C alone would wait for
    // it to finish.
    let config = r#"
models:
  - name: "slow"
    model_type: "hf_bert"
    model_config: {hidden_size: 512, num_hidden_layers: 6, num_attention_heads: 8, intermediate_size: 2048, vocab_size: 128}
"#;
    let dir = temp_dir("second-interrupt");
    std::fs::write(dir.join("config.yaml"), config).unwrap();
    let mut child = Command::new(binary())
        .arg("--config-file")
        .arg(dir.join("config.yaml"))
        .arg("--output-file")
        .arg(dir.join("results.csv"))
        .args(["--device", "cpu", "--threads", "1", "--batch-size", "32"])
        .args(["--sequence-length", "512", "--warmup-batches", "5"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The "plan ..." notice comes once the signal handler is installed.
    use std::io::BufRead;
    let stderr_pipe = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr_pipe).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("plan ") {
            break;
        }
    }
    let kill = |signal: &str| {
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    // Two signals sent back to back can merge into one delivery: send the second once the
    // first has been taken (the process says so).
    kill("-INT");
    let mut rest: Vec<String> = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let taken = line.contains("interrupt again to exit at once");
        rest.push(line);
        if taken {
            break;
        }
    }
    let started = std::time::Instant::now();
    kill("-INT");
    rest.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(
        started.elapsed().as_secs_f64() < 3.0,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        rest.iter().any(|l| l.contains("second interrupt")),
        "{rest:?}"
    );
}

#[test]
fn the_output_folder_is_made_before_anything_runs_and_a_bad_one_stops_the_run() {
    let dir = temp_dir("output-folder");
    std::fs::write(dir.join("config.yaml"), ONE_TINY).unwrap();
    let nested = dir.join("new/folder/results.csv");
    let out = Command::new(binary())
        .arg("--config-file")
        .arg(dir.join("config.yaml"))
        .arg("--output-file")
        .arg(&nested)
        .args([
            "--device",
            "cpu",
            "--batch-size",
            "1",
            "--sequence-length",
            "8",
        ])
        .args(["--warmup-batches", "1", "--measure-batches", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(report::io::read_results(&nested).unwrap().len(), 1);
    // A file where the folder should be: exit 2 before any model is measured.
    std::fs::write(dir.join("blocker"), b"").unwrap();
    let out = Command::new(binary())
        .arg("--config-file")
        .arg(dir.join("config.yaml"))
        .arg("--output-file")
        .arg(dir.join("blocker/results.csv"))
        .args([
            "--device",
            "cpu",
            "--batch-size",
            "1",
            "--sequence-length",
            "8",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("blocker"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains('✓'),
        "nothing is measured: {}",
        stderr(&out)
    );
}

#[test]
fn shards_cover_the_plan_once_and_keep_comparison_groups_together() {
    let flags = ["--batch-size", "1,2", "--sequence-length", "8,12"];
    let dry = |extra: &[&str]| {
        let (out, _) = run_with(
            TINY,
            &[&flags[..], &["--dry-run"], extra].concat(),
            "shard-dry",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The whole plan: 2 models x 4 shapes.
    let whole = dry(&[]);
    // Job lines are "ID label: ...", or "[shard K/N] ID label: ..." when sharded.
    let ids = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("plan ") && !l.starts_with("this task"))
            .map(|l| {
                l.rsplit("] ")
                    .next()
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(ids(&whole).len(), 8, "{whole}");
    // Dry run with a shard marks every job's shard; both models of a shape share one.
    let marked = dry(&["--shard", "1/3", "--shard-strategy", "cost"]);
    assert!(
        marked.contains("this task runs shard 1/3 (cost strategy)"),
        "{marked}"
    );
    for shape in ["batch 1, seq 8", "batch 2, seq 12"] {
        let shards: Vec<&str> = marked
            .lines()
            .filter(|l| l.contains(shape))
            .map(|l| l.split(']').next().unwrap())
            .collect();
        assert_eq!(shards.len(), 2, "{marked}");
        assert_eq!(shards[0], shards[1], "{marked}");
    }
    // Running each of 3 shards records every job exactly once, all under the whole plan's hash.
    let plan_hash = whole
        .lines()
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_owned();
    let mut recorded = Vec::new();
    for index in 1..=3 {
        let spec = format!("{index}/3");
        let (out, csv) = run_with(
            TINY,
            &[&flags[..], &["--shard", &spec]].concat(),
            "shard-run",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        // A shard's files are named after it, beside --output-file.
        let csv = csv.with_file_name(format!("results-shard-{index}-of-3.csv"));
        if !csv.exists() {
            continue; // a shard may be empty
        }
        for row in report::io::read_results(&csv).unwrap() {
            assert_eq!(row.plan_hash.as_deref(), Some(plan_hash.as_str()));
            recorded.push(row.job_id.unwrap());
        }
    }
    recorded.sort();
    let mut expected = ids(&whole);
    expected.sort();
    assert_eq!(recorded, expected);
}

#[test]
fn shard_from_env_reads_slurm_and_kubernetes_and_names_missing_variables() {
    let dir = temp_dir("shard-env");
    std::fs::write(dir.join("config.yaml"), TINY).unwrap();
    let run = |vars: &[(&str, &str)], extra: &[&str]| {
        let mut command = Command::new(binary());
        command
            .arg("--config-file")
            .arg(dir.join("config.yaml"))
            .args(["--device", "cpu", "--dry-run", "--shard-from-env"])
            .args(["--batch-size", "1,2", "--sequence-length", "8"])
            .args(extra)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX");
        for (k, v) in vars {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "11"),
        ("SLURM_ARRAY_TASK_MIN", "10"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
    ];
    let out = run(&slurm, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("this task runs shard 2/2"));
    let out = run(&[("JOB_COMPLETION_INDEX", "0")], &["--shards", "2"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("this task runs shard 1/2"));
    let out = run(&[("JOB_COMPLETION_INDEX", "0")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--shards N"), "{}", stderr(&out));
    let out = run(&slurm[..1], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("SLURM_ARRAY_TASK_MIN"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_rerun_shard_resumes_and_a_changed_plan_is_refused() {
    let dir = temp_dir("resume");
    std::fs::write(dir.join("config.yaml"), TINY).unwrap();
    let run = |extra: &[&str]| {
        Command::new(binary())
            .arg("--config-file")
            .arg(dir.join("config.yaml"))
            .arg("--output-dir")
            .arg(dir.join("out"))
            .args(["--device", "cpu", "--threads", "1", "--shard", "1/2"])
            .args(["--batch-size", "1,2", "--sequence-length", "8,12"])
            .args(["--warmup-batches", "1", "--measure-batches", "3"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = dir.join("out/shard-1-of-2.csv");
    let json = csv.with_extension("json");
    let all = report::io::read_results(&json).unwrap();
    assert_eq!(all.len(), 4, "half of 2 models x 4 shapes");
    let manifest =
        report::manifest::Manifest::read(&dir.join("out/shard-1-of-2.manifest.json")).unwrap();
    assert_eq!(manifest.shard.as_deref(), Some("1/2"));
    assert_eq!(manifest.plan_jobs.len(), 8);
    assert!(manifest.finished.is_some() && !manifest.interrupted);
    let mut done = manifest.done.clone();
    done.sort();
    let mut ids: Vec<String> = all.iter().map(|r| r.job_id.clone().unwrap()).collect();
    ids.sort();
    assert_eq!(done, ids);
    // As if the task had been killed after three records: the re-run measures only the fourth.
    report::io::write_atomic(&json, report::io::to_json(&all[..3]).unwrap().as_bytes()).unwrap();
    let out = run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 of 4 job(s) already recorded are skipped"),
        "{}",
        stderr(&out)
    );
    let resumed = report::io::read_results(&json).unwrap();
    assert_eq!(resumed.len(), 4);
    assert_eq!(
        resumed[..3],
        all[..3],
        "earlier records are kept as they were"
    );
    assert_eq!(resumed[3].job_id, all[3].job_id);
    assert_eq!(report::io::read_results(&csv).unwrap().len(), 4);
    // Another strategy puts other jobs in the shard: refused.
    let out = run(&["--shard-strategy", "hash"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--shard-strategy slice, now hash"),
        "{}",
        stderr(&out)
    );
    // A second run of the shard while one is writing it is refused.
    // (flock from a `flock` process standing in for the other run.)
    // (--no-fork: flock execs the command, so killing it frees the lock.)
    let holder = Command::new("flock")
        .arg("--no-fork")
        .arg(dir.join("out/shard-1-of-2.lock"))
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let lock_file = dir.join("out/shard-1-of-2.lock");
    let started = std::time::Instant::now();
    // Wait until the holder has the lock (a non-blocking flock attempt fails).
    while Command::new("flock")
        .args(["-n"])
        .arg(&lock_file)
        .arg("true")
        .status()
        .unwrap()
        .success()
    {
        assert!(
            started.elapsed().as_secs() < 10,
            "flock never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another latency-analysis is writing"),
        "{}",
        stderr(&out)
    );
    let mut holder = holder;
    holder.kill().unwrap();
    holder.wait().unwrap();
    // A changed plan is refused, saying what changed; --force measures it from scratch.
    let out = run(&["--seed", "5"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("all 8 jobs: seed 0 -> 5"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--seed", "5", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let forced = report::io::read_results(&json).unwrap();
    assert_eq!(forced.len(), 4);
    assert!(forced.iter().all(|r| r.seed == Some(5)));
}

#[test]
fn the_emitted_kubernetes_job_covers_the_plan_exactly_once() {
    let dir = temp_dir("k8s");
    std::fs::write(dir.join("config.yaml"), TINY).unwrap();
    let flags = [
        "--device",
        "cpu",
        "--threads",
        "1",
        "--batch-size",
        "1,2",
        "--sequence-length",
        "8,12",
        "--warmup-batches",
        "1",
        "--measure-batches",
        "2",
    ];
    let config = dir.join("config.yaml");
    let manifest = dir.join("job.yaml");
    let out = Command::new(binary())
        .arg("--config-file")
        .arg(&config)
        .args(flags)
        .args(["plan", "--emit", "k8s", "--tasks", "3", "--file"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Parse it back: a ConfigMap holding the config, and an Indexed Job of 3 completions.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let docs: Vec<serde_json::Value> = text
        .split("\n---\n")
        .map(|doc| serde_saphyr::from_str(doc).unwrap())
        .collect();
    assert_eq!(docs[0]["kind"], "ConfigMap");
    assert_eq!(docs[0]["data"]["latency_config.yaml"], TINY);
    let job = &docs[1];
    assert_eq!(
        (job["kind"].as_str(), job["apiVersion"].as_str()),
        (Some("Job"), Some("batch/v1"))
    );
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 3);
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<String> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(command[0], "latency-analysis");
    // Run each index here, as its pod would: the mounted config and results volume are folders.
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(dir.join("config/latency_config.yaml"), TINY).unwrap();
    let results = dir.join("results");
    let local = |word: &String| match word.as_str() {
        "/config/latency_config.yaml" => {
            dir.join("config/latency_config.yaml").display().to_string()
        }
        "/results" => results.display().to_string(),
        _ => word.clone(),
    };
    for index in 0..3 {
        let out = Command::new(binary())
            .args(command[1..].iter().map(local))
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env_remove("SLURM_ARRAY_TASK_ID")
            .output()
            .unwrap();
        assert!(out.status.success(), "index {index}: {}", stderr(&out));
    }
    let whole = Command::new(binary())
        .arg("--config-file")
        .arg(&config)
        .args(flags)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    let plan: Vec<serde_json::Value> = serde_json::from_slice(&whole.stdout).unwrap();
    let mut expected: Vec<&str> = plan.iter().map(|j| j["job_id"].as_str().unwrap()).collect();
    expected.sort_unstable();
    let mut recorded = Vec::new();
    for entry in std::fs::read_dir(&results).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv") {
            for row in report::io::read_results(&path).unwrap() {
                assert_eq!(row.plan_hash.as_deref(), plan[0]["plan_hash"].as_str());
                recorded.push(row.job_id.unwrap());
            }
        }
    }
    recorded.sort_unstable();
    assert_eq!(recorded, expected);
}

/// Issue 15: `--repeat 3` runs the plan in 3 fresh processes, merges their records into the
/// results file and reports the between-run interval and each process's cold start.
#[test]
fn repeat_runs_the_plan_in_fresh_processes_and_merges_the_runs() {
    let (out, csv) = run_with(
        TINY,
        &[
            "--repeat",
            "3",
            "--batch-size",
            "1",
            "--sequence-length",
            "16",
        ],
        "repeat",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let rows = report::io::read_results(&csv.with_extension("json")).unwrap();
    assert_eq!(rows.len(), 6, "2 models x 3 runs");
    let runs: Vec<(String, Option<u64>, Option<u64>)> = rows
        .iter()
        .map(|r| (r.model_name.clone(), r.repeat_index, r.repeats))
        .collect();
    for (i, model) in [(1, "tiny-bert"), (1, "tiny-modernbert"), (2, "tiny-bert")]
        .iter()
        .map(|(i, m)| (*i, *m))
    {
        assert!(
            runs.contains(&(model.to_owned(), Some(i), Some(3))),
            "{runs:?}"
        );
    }
    // Each process's first model records its cold start; the second model of a process none.
    for run in 1..=3 {
        let of_run: Vec<_> = rows
            .iter()
            .filter(|r| r.repeat_index == Some(run))
            .collect();
        assert_eq!(of_run.len(), 2);
        let cold = of_run[0].process_to_built_s.expect("cold start");
        assert!(cold > 0.0 && cold < 600.0, "{cold}");
        assert_eq!(of_run[1].process_to_built_s, None);
        assert!(
            of_run
                .iter()
                .all(|r| r.warmup_latencies_ms.as_ref().map(Vec::len) == Some(2))
        );
    }
    // The processes were distinct: their job ids repeat, their timestamps and cold starts are
    // their own; the runs' own files were merged and removed.
    let dir = csv.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".run-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(err.contains("run 3 of 3"), "{err}");
    assert!(
        err.contains("between-run CV") && err.contains("(95% t)"),
        "{err}"
    );
    let repeated = report::analysis::repeated_runs(&rows, false);
    assert_eq!(repeated.len(), 2);
    assert_eq!(repeated[0].runs, [1, 2, 3]);
    assert!(repeated[0].between_run_ci.is_some());

    // Files a stopped earlier invocation left behind are not merged into a new one.
    let stale = csv.with_file_name("results.run-2-of-2.json");
    std::fs::write(
        &stale,
        serde_json::to_string(&vec![rows[0].clone()]).unwrap(),
    )
    .unwrap();
    let config = csv.with_file_name("config.yaml");
    let out = Command::new(binary())
        .arg("--config-file")
        .arg(&config)
        .arg("--output-file")
        .arg(&csv)
        .args(["--device", "cpu", "--threads", "1", "--warmup-batches", "2"])
        .args([
            "--measure-batches",
            "5",
            "--repeat",
            "2",
            "--batch-size",
            "1",
        ])
        .args(["--sequence-length", "16", "--seed", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = report::io::read_results(&csv.with_extension("json")).unwrap();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter().all(|r| r.seed == Some(5)),
        "a stale record was merged"
    );

    // Combined with a shard it is refused before anything runs.
    let (out, _) = run_with(TINY, &["--repeat", "2", "--shard", "1/2"], "repeat-shard");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--repeat"), "{}", stderr(&out));
}

/// Issue 16: an ONNX model runs through ONNX Runtime beside a built-in one; without a usable
/// ONNX Runtime library it fails alone, with a message saying what to do, and the run goes on.
#[test]
fn an_onnx_model_runs_beside_the_built_in_ones_and_a_missing_runtime_fails_it_alone() {
    let config = format!(
        "{ONE_TINY}  - name: \"exported\"\n    model_type: \"onnx\"\n    pretrained_checkpoint: \"{}\"\n    model_config: {{vocab_size: 128}}\n",
        model_zoo_data("onnx/bert_cls.onnx").display()
    );
    let (out, csv) = run_with(
        &config,
        &["--batch-size", "2", "--sequence-length", "8"],
        "onnx",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = report::io::read_results(&csv.with_extension("json")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[1].model_name.as_str(), rows[1].model_type.as_str()),
        ("exported", "onnx")
    );
    assert_eq!(rows[1].num_parameters, Some(24_482));
    assert!(rows[1].mean_latency > 0.0);

    let dir = temp_dir("onnx-missing-runtime");
    let config_path = dir.join("config.yaml");
    std::fs::write(&config_path, &config).unwrap();
    let out = Command::new(binary())
        .env("ORT_DYLIB_PATH", dir.join("libonnxruntime.so.0"))
        .arg("--config-file")
        .arg(&config_path)
        .arg("--output-file")
        .arg(dir.join("r.csv"))
        .args(["--device", "cpu", "--threads", "1", "--batch-size", "1"])
        .args(["--sequence-length", "8", "--measure-batches", "3"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ORT_DYLIB_PATH") && err.contains("exported"),
        "{err}"
    );
    let rows = report::io::read_results(&dir.join("r.json")).unwrap();
    assert_eq!(rows.len(), 1, "the built-in model still ran");
}
