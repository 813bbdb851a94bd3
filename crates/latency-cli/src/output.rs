//! Everything `latency-analysis` prints: notices, progress, one line per record, failures in
//! red, and the Python tool's results table.

use std::cell::Cell;
use std::io::{IsTerminal, Write};

use report::ResultRow;
use tabled::builder::Builder;
use tabled::settings::Style;
use timing_core::{Phase, Progress};

/// The console.
pub struct Output {
    quiet: bool,
    color: bool,
    live: bool,
    last_progress: Cell<Option<std::time::Instant>>,
}

impl Output {
    /// A console; `quiet` keeps everything but errors off it. Progress is drawn only when standard
    /// error is a terminal.
    pub fn new(quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        Self {
            quiet,
            color: terminal,
            live: terminal && !quiet,
            last_progress: Cell::new(None),
        }
    }

    /// A one-line notice on standard error.
    pub fn notice(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A warning line.
    pub fn warning(&self, text: &str) {
        if !self.quiet {
            eprintln!("warning: {text}");
        }
    }

    /// A failure, in red on terminals; printed even when quiet.
    pub fn failure(&self, what: &str, cause: &str) {
        self.clear_progress();
        if self.color {
            eprintln!("\x1b[31m✗ {what}: {cause}\x1b[0m");
        } else {
            eprintln!("✗ {what}: {cause}");
        }
    }

    /// The phase a model is in (build), shown on terminals.
    pub fn phase(&self, model: &str, phase: &str) {
        if self.live {
            eprint!("\r\x1b[K{model}: {phase}…");
            let _ = std::io::stderr().flush();
        }
    }

    /// Harness progress, redrawn at most ten times a second on terminals.
    pub fn progress(&self, model: &str, p: Progress) {
        if !self.live {
            return;
        }
        let now = std::time::Instant::now();
        if self
            .last_progress
            .get()
            .is_some_and(|t| now.duration_since(t).as_millis() < 100)
        {
            return;
        }
        self.last_progress.set(Some(now));
        let phase = match p.phase {
            Phase::Warmup => "warm-up",
            Phase::Measure => "measure",
        };
        eprint!(
            "\r\x1b[K{model}: {phase} {} batches, {:.1} s",
            p.iterations,
            p.elapsed.as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }

    fn clear_progress(&self) {
        if self.live {
            eprint!("\r\x1b[K");
        }
    }

    /// One measured record.
    pub fn record(&self, row: &ResultRow) {
        self.clear_progress();
        if self.quiet {
            return;
        }
        let flag = |name: &str| {
            if row
                .unsupported_percentiles
                .as_deref()
                .is_some_and(|u| u.split(';').any(|p| p == name))
            {
                "*"
            } else {
                ""
            }
        };
        eprintln!(
            "✓ {} (batch {}, seq {}): mean {:.2} ms, median {:.2} ms, p95 {:.2}{} ms, p99 {:.2}{} ms, {:.0} tokens/s",
            row.model_name,
            row.batch_size,
            row.sequence_length,
            row.mean_latency,
            row.median_latency,
            row.p95_latency,
            flag("p95"),
            row.p99_latency,
            flag("p99"),
            row.tokens_per_second
        );
    }

    /// The results table of the Python tool, on standard output.
    pub fn table(&self, rows: &[ResultRow]) {
        if self.quiet || rows.is_empty() {
            return;
        }
        let mut builder = Builder::default();
        builder.push_record([
            "Model",
            "Type",
            "Batch Size",
            "Seq Len",
            "Mean (ms)",
            "P95 (ms)",
            "P99 (ms)",
            "Tokens/s",
            "Memory (MB)",
        ]);
        for r in rows {
            builder.push_record([
                r.model_name.clone(),
                r.model_type.clone(),
                r.batch_size.to_string(),
                r.sequence_length.to_string(),
                format!("{:.2}", r.mean_latency),
                format!("{:.2}", r.p95_latency),
                format!("{:.2}", r.p99_latency),
                format!("{:.0}", r.tokens_per_second),
                r.peak_memory_mb
                    .map_or("-".to_owned(), |m| format!("{m:.1}")),
            ]);
        }
        println!("{:^width$}", "Latency Analysis Results", width = 100);
        println!("{}", builder.build().with(Style::modern()));
        if rows.iter().any(|r| r.unsupported_percentiles.is_some()) {
            println!(
                "* fewer samples than the percentile needs (64 for p90, 130 for p95, 662 for p99): raise --measure-batches"
            );
        }
        if rows
            .iter()
            .any(|r| r.memory_kind.as_deref() == Some("host"))
        {
            println!("Memory: host memory (peak resident set growth) on CPU.");
        }
    }
}
