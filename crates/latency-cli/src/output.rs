//! Everything `latency-analysis` prints: notices, progress, one line per record, failures in
//! red, and the Python tool's results table.

use std::cell::RefCell;
use std::time::Duration;

use anstyle::{AnsiColor, Style as Colour};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use report::ResultRow;
use runner::{Observer, PlannedJob, Stage};
use tabled::builder::Builder;
use tabled::settings::Style;
use timing_core::{Phase, Progress};

/// The console: notices, warnings and failures on standard error (through the progress bar, so
/// lines and bar do not mix), the results table on standard output (standard error with `--json`,
/// which keeps standard output for the records).
pub struct Output {
    quiet: bool,
    table_on_stderr: bool,
    bar: RefCell<Option<ProgressBar>>,
    warnings: RefCell<Vec<String>>,
}

impl Output {
    /// A console; `quiet` keeps everything but errors off it. Progress bars are drawn only when
    /// standard error is a terminal.
    pub fn new(quiet: bool, json: bool) -> Self {
        Self {
            quiet,
            table_on_stderr: json,
            bar: RefCell::new(None),
            warnings: RefCell::new(Vec::new()),
        }
    }

    /// Prints a line on standard error without breaking the progress bar. Colour codes are
    /// dropped where standard error is not a terminal, or `NO_COLOR` is set (anstream).
    fn line(&self, text: &str) {
        match self.bar.borrow().as_ref() {
            Some(bar) => bar.suspend(|| anstream::eprintln!("{text}")),
            None => anstream::eprintln!("{text}"),
        }
    }

    /// A one-line notice on standard error.
    pub fn notice(&self, text: &str) {
        if !self.quiet {
            self.line(text);
        }
    }

    /// A warning: printed now, and again in the block after the table ([`Output::warnings`]).
    pub fn warning(&self, text: &str) {
        self.warnings.borrow_mut().push(text.to_owned());
        if !self.quiet {
            self.line(&format!("warning: {text}"));
        }
    }

    /// A failure, in red on terminals (unless `NO_COLOR`); printed even when quiet.
    pub fn failure(&self, what: &str, cause: &str) {
        let red = Colour::new().fg_color(Some(AnsiColor::Red.into()));
        self.line(&format!("{red}✗ {what}: {cause}{red:#}"));
    }

    /// Starts the progress bar of one model (and shape), in phase `phase` (e.g. build).
    pub fn start(&self, label: &str, phase: &str) {
        self.finish();
        let target = if self.quiet {
            ProgressDrawTarget::hidden()
        } else {
            // indicatif draws nothing when standard error is not a terminal.
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target)
            .with_style(phase_style())
            .with_prefix(label.to_owned())
            .with_message(phase.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        *self.bar.borrow_mut() = Some(bar);
    }

    /// Harness progress: the phase, batches run (out of `target` where the count is fixed) and
    /// elapsed time.
    pub fn progress(&self, p: Progress, target: Option<u64>) {
        let bar = self.bar.borrow();
        let Some(bar) = bar.as_ref() else {
            return;
        };
        let phase = match p.phase {
            Phase::Warmup => "warm-up",
            Phase::Measure => "measure",
        };
        if bar.message() != phase {
            bar.set_message(phase);
            bar.set_length(target.unwrap_or(0));
            bar.set_style(if target.is_some() {
                bar_style()
            } else {
                counter_style()
            });
        }
        bar.set_position(p.iterations as u64);
    }

    /// Stops the bar's redraw thread while batches are measured (it would take CPU time from a
    /// CPU model), and starts it again for the slower stages.
    fn steady_tick(&self, on: bool) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            if on {
                bar.enable_steady_tick(Duration::from_millis(100));
            } else {
                bar.disable_steady_tick();
            }
        }
    }

    /// Removes the current progress bar.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }

    /// The warnings of the run, repeated in one block (after the table, where they are not
    /// scrolled away); nothing when there were none.
    pub fn warnings(&self) {
        let warnings = self.warnings.borrow();
        if self.quiet || warnings.is_empty() {
            return;
        }
        eprintln!("{} warning(s):", warnings.len());
        for warning in warnings.iter() {
            eprintln!("  - {warning}");
        }
    }

    /// One measured record.
    pub fn record(&self, row: &ResultRow) {
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
        let real = match (row.padding_fraction, row.real_tokens_per_second) {
            (Some(padding), Some(real)) if padding > 0.0 => {
                format!(" ({real:.0} real, {:.0}% padding)", padding * 100.0)
            }
            _ => String::new(),
        };
        self.line(&format!(
            "✓ {} (batch {}, seq {}): mean {:.2} ms, median {:.2} ms, p95 {:.2}{} ms, p99 {:.2}{} ms, {:.0} tokens/s{real}",
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
        ));
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
        let mut text = format!("{:^width$}\n", "Latency Analysis Results", width = 100);
        text.push_str(&builder.build().with(Style::modern()).to_string());
        if rows.iter().any(|r| r.unsupported_percentiles.is_some()) {
            text.push_str(
                "\n* fewer samples than the percentile needs (64 for p90, 130 for p95, 662 for p99): raise --measure-batches",
            );
        }
        let kinds = |kind: &str| rows.iter().any(|r| r.memory_kind.as_deref() == Some(kind));
        if kinds("host") {
            text.push_str("\nMemory: host memory (peak resident set growth) on CPU.");
        }
        if kinds("device") {
            text.push_str(
                "\nMemory: CUDA allocator peak during the measured batches (weights, one batch's inputs, activations).",
            );
        }
        if self.table_on_stderr {
            eprintln!("{text}");
        } else {
            print_stdout(&text);
        }
    }
}

/// Prints `text` and a newline on standard output. A closed pipe (`| head`) is not an error worth
/// a panic: the rest is dropped.
pub fn print_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// A phase without batches (build).
fn phase_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Batches without a fixed count (--min-time, --target-ci).
fn counter_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix}: {msg} {pos} batches [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Batches out of a fixed count.
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix}: {msg} [{bar:30}] {pos}/{len} batches [{elapsed}]",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

impl Observer for Output {
    fn stage(&self, job: &PlannedJob, stage: Stage) {
        match stage {
            Stage::Build => self.start(&job.job.model.name, "build"),
            Stage::Inputs => self.start(&job.job.label(), "inputs"),
            Stage::Warmup => self.steady_tick(true),
            Stage::Measure => self.steady_tick(false),
        }
    }

    fn progress(&self, progress: Progress, target: Option<u64>) {
        Output::progress(self, progress, target);
    }

    fn warning(&self, text: &str) {
        Output::warning(self, text);
    }
}
