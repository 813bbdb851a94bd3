//! The libtorch check that `latency-analysis` runs until the model zoo lands: it reports the
//! linked libtorch and the chosen device, then times a matrix product of the shape one encoder
//! projection has at the requested batch and sequence length (hidden size 768, BERT-base).

use anyhow::{Context, Result};
use model_zoo::tch::{Device, Kind, Tensor};
use model_zoo::{DeviceChoice, LibtorchInfo};
use timing_core::stats::{Samples, Summary, SummaryConfig};
use timing_core::{Harness, HarnessConfig, StopRule, Warmup};

use crate::args::Args;

/// BERT-base's hidden size: the smoke product is one `[tokens, 768] x [768, 768]` projection.
const HIDDEN: i64 = 768;

/// Prints the environment and times the smoke product.
pub fn run(args: &Args) -> Result<()> {
    if let Some(threads) = args.threads {
        model_zoo::tch::set_num_threads(i32::try_from(threads).context("--threads is too large")?);
    }
    let choice: DeviceChoice = args.device.parse()?;
    let device = choice.resolve()?;
    let info = LibtorchInfo::detect();
    println!("latency-analysis {}", env!("CARGO_PKG_VERSION"));
    println!(
        "libtorch {} ({}; {} CUDA device(s) visible) from {}",
        info.version,
        if info.cuda_built {
            "CUDA build"
        } else {
            "CPU-only build"
        },
        info.cuda_devices,
        info.lib_dir
    );
    let device_note = if choice == DeviceChoice::Auto {
        " (chosen by --device auto)"
    } else {
        ""
    };
    println!(
        "device: {}{device_note}; intra-op threads: {}",
        describe(device),
        model_zoo::tch::get_num_threads()
    );
    println!(
        "config {}: model runs arrive with the model-zoo issue; timing a libtorch check instead",
        args.config_file.display()
    );

    let tokens = i64::from(args.batch_size) * i64::from(args.sequence_length);
    let x = Tensor::randn([tokens, HIDDEN], (Kind::Float, device));
    let w = Tensor::randn([HIDDEN, HIDDEN], (Kind::Float, device));
    let config = HarnessConfig {
        warmup: Warmup {
            min_iters: args.warmup_batches as usize,
            min_time: std::time::Duration::ZERO,
            ..Warmup::default()
        },
        stop: StopRule::Count(args.measured_batches() as usize),
        ..HarnessConfig::default()
    };
    let measurement = Harness::new(config)?
        .with_fence(|| model_zoo::synchronize(device))
        .try_run(|| x.f_matmul(&w).map(drop))
        .context("running the libtorch check")?;
    let samples = Samples::new(measurement.samples_ms())?;
    let s = Summary::new(&samples, &SummaryConfig::default());
    let flops = 2.0 * tokens as f64 * (HIDDEN * HIDDEN) as f64;
    println!(
        "libtorch check: matmul [{tokens}, {HIDDEN}] x [{HIDDEN}, {HIDDEN}] fp32, {} warm-up + {} measured",
        measurement.warmup.len(),
        s.n
    );
    println!(
        "  median {:.3} ms, mean {:.3} ms, p95 {:.3} ms{}, {:.1} GFLOP/s at the median",
        s.median,
        s.mean,
        s.p95,
        if s.is_supported("p95") {
            ""
        } else {
            " (too few samples for p95)"
        },
        flops / (s.median * 1e-3) / 1e9
    );
    println!(
        "results file {}: not written, no model was run",
        args.output_file.display()
    );
    Ok(())
}

fn describe(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".to_owned(),
        Device::Cuda(index) => format!("cuda:{index}"),
        other => format!("{other:?}"),
    }
}
