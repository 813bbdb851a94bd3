//! The runner on a CPU: the GPU path through a fake GPU (fences, allocator, NVML lookup,
//! telemetry window, energy), and the CPU path's records.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gpu_telemetry::testing::{FakeDirectory, fake_device_info, steady_readings};
use gpu_telemetry::{CudaEnv, DeviceReader, Reading, Readings, SamplerConfig};
use model_zoo::{Dtype, Lengths, ModelEntry};
use report::ResultRow;
use runner::testing::{Event, FakeGpu};
use runner::{
    CpuDevice, FailedStage, Inputs, Observer, Outcome, Plan, Runner, RunnerOptions, Sampling,
    Settings,
};

const MIB: f64 = (1u64 << 20) as f64;

fn entry(name: &str, hidden: u32) -> ModelEntry {
    serde_json::from_value(serde_json::json!({
        "name": name, "model_type": "hf_bert",
        "model_config": {"hidden_size": hidden, "num_hidden_layers": 2, "num_attention_heads": 4,
                         "intermediate_size": hidden * 4, "vocab_size": 128}
    }))
    .unwrap()
}

fn settings(device: &str, batch: u32, seq: u32, measure: u32) -> Settings {
    Settings {
        batch_sizes: vec![batch],
        sequence_lengths: vec![seq],
        dtype: Dtype::Fp32,
        device: device.to_owned(),
        threads: 1,
        inputs: Inputs::Random(Lengths::Full),
        seed: 11,
        include_transfer: false,
        sampling: Sampling {
            warmup_batches: 2,
            num_samples: 100_000,
            measure_batches: measure,
            ..Sampling::default()
        },
    }
}

/// Keeps every warning.
#[derive(Default)]
struct Warnings(RefCell<Vec<String>>);

impl Observer for Warnings {
    fn warning(&self, text: &str) {
        self.0.borrow_mut().push(text.to_owned());
    }
}

/// A GPU drawing `watts` whose energy counter advances with real time.
struct Meter {
    start: Instant,
    watts: f64,
}

impl DeviceReader for Meter {
    fn read(&mut self) -> Readings {
        steady_readings((self.watts * 1000.0) as u32)
    }

    fn energy_mj(&mut self) -> Reading<u64> {
        Ok(5_000_000 + (self.start.elapsed().as_secs_f64() * self.watts * 1000.0) as u64)
    }
}

/// Four GPUs in PCI order; NVML #2 is the L4.
fn machine() -> Arc<FakeDirectory> {
    let names = ["NVIDIA H100", "NVIDIA H100", "NVIDIA L4", "NVIDIA A10"];
    let devices = (0..4u32)
        .map(|i| {
            fake_device_info(
                i,
                names[i as usize],
                &format!("GPU-{i}{i}{i}{i}0000-aaaa-bbbb-cccc-dddddddddddd"),
                &format!("00000000:{:02X}:00.0", 0x18 + 0x10 * i),
            )
        })
        .collect();
    Arc::new(FakeDirectory::new(devices, Some("570.86.15"), |_| {
        Box::new(Meter {
            start: Instant::now(),
            watts: 300.0,
        })
    }))
}

/// CUDA device 0 under `CUDA_VISIBLE_DEVICES=2,0`, which the CUDA runtime says is at PCI bus 0x38
/// (NVML #2).
fn fake_gpu(directory: &Arc<FakeDirectory>) -> FakeGpu {
    let env = CudaEnv {
        visible_devices: Some("2,0".to_owned()),
        device_order: None,
    };
    FakeGpu::new(0, Some("0000:38:00.0"), &env, Arc::clone(directory))
}

fn run_one(
    plan: &Plan,
    device: &dyn runner::Device,
    observer: &dyn Observer,
    options: RunnerOptions,
) -> ResultRow {
    let results: Vec<_> = Runner::new(plan, device, observer, options).collect();
    assert_eq!(results.len(), 1);
    match &results[0].outcome {
        Outcome::Measured(row) => (**row).clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fences_bracket_every_batch_and_the_sampler_spans_the_measured_phase_only() {
    let directory = machine();
    let gpu = fake_gpu(&directory);
    let plan = Plan::new(&[entry("tiny", 32)], &settings("cuda:0", 2, 16, 7));
    let row = run_one(&plan, &gpu, &Warnings::default(), RunnerOptions::default());
    let events: Vec<Event> = gpu
        .events()
        .into_iter()
        // Before the plan's first model: a runtime warm-up (stage, fence) and one allocator read
        // (to say whether it can), then the model is loaded after releasing the cache.
        .skip_while(|e| *e != Event::ReleaseCache)
        .collect();
    let mut expected = vec![Event::ReleaseCache];
    expected.extend([Event::Stage; 7]);
    expected.extend([Event::Fence; 2 * 2]);
    expected.extend([Event::ResetPeak, Event::ReaderOpened]);
    expected.extend([Event::Fence; 2 * 7]);
    expected.extend([Event::ReaderClosed, Event::ReadMemory]);
    assert_eq!(events, expected);
    assert_eq!(
        (row.warmup_batches, row.measure_batches),
        (Some(2), Some(7))
    );
    // The NVML device is the one at the CUDA device's PCI bus id, not NVML #0.
    assert_eq!(gpu.nvml_index(), Ok(2));
    assert_eq!(directory.opened(), vec![2]);
    assert_eq!(row.device_name.as_deref(), Some("NVIDIA L4"));
    assert_eq!(row.driver_version.as_deref(), Some("570.86.15"));
    assert_eq!(row.device.as_deref(), Some("cuda:0"));
    assert_eq!(row.memory_kind.as_deref(), Some("device"));
}

#[test]
fn staged_inputs_are_left_out_of_device_memory() {
    let (weights, activations) = (40 << 20, 3 << 20);
    let gpu = fake_gpu(&machine()).with_memory(weights, activations);
    let (batch, seq, count) = (4u64, 32u64, 9u32);
    let plan = Plan::new(&[entry("tiny", 32)], &settings("cuda:0", 4, 32, count));
    let row = run_one(&plan, &gpu, &Warnings::default(), RunnerOptions::default());
    // Two int64 tensors, each a multiple of the allocator's 512-byte blocks here.
    let one_batch = batch * seq * 2 * 8;
    assert_eq!(gpu.staged_bytes(), u64::from(count) * one_batch);
    let mb = |x: u64| x as f64 / MIB;
    assert_eq!(
        row.peak_memory_mb,
        Some(mb(weights + activations + one_batch))
    );
    assert_eq!(row.allocated_memory_mb, Some(mb(weights)));
    assert_eq!(row.input_memory_mb, Some(mb(u64::from(count) * one_batch)));
}

#[test]
fn energy_per_sequence_times_sequences_per_second_is_the_average_power() {
    let gpu = fake_gpu(&machine());
    let plan = Plan::new(&[entry("wider", 128)], &settings("cuda:0", 8, 128, 30));
    let options = RunnerOptions {
        sampler: SamplerConfig {
            interval: Duration::from_millis(5),
            min_energy_window: Duration::from_millis(1),
        },
        ..RunnerOptions::default()
    };
    let warnings = Warnings::default();
    let row = run_one(&plan, &gpu, &warnings, options);
    assert_eq!(row.energy_source.as_deref(), Some("counter"));
    let per_sample = row.energy_j_per_sample.unwrap();
    let per_batch = row.energy_j_per_batch.unwrap();
    assert!((per_batch / per_sample - 8.0).abs() < 1e-9);
    // The counter ran over the measured batches only, so joules per sequence times sequences per
    // second is the 300 W drawn, up to the harness's gaps between batches.
    let power = per_sample * row.samples_per_second;
    assert!((power / 300.0 - 1.0).abs() < 0.1, "{power} W");
    assert!((row.avg_gpu_power_w.unwrap() - 300.0).abs() < 1e-9);
    let window = row.telemetry_window_s.unwrap();
    let measured_s = row.latencies_ms.as_ref().unwrap().iter().sum::<f64>() / 1e3;
    assert!(
        window >= measured_s && window < measured_s * 1.1 + 0.01,
        "{window} vs {measured_s}"
    );
    assert_eq!(row.throttled_fraction, Some(0.0));
    assert_eq!(
        (row.sm_clock_min_mhz, row.sm_clock_max_mhz),
        (Some(1410), Some(1410))
    );
    assert!(warnings.0.borrow().is_empty(), "{:?}", warnings.0.borrow());
}

#[test]
fn a_window_too_short_for_the_energy_counter_records_no_energy_and_says_so() {
    let gpu = fake_gpu(&machine());
    let plan = Plan::new(&[entry("tiny", 32)], &settings("cuda:0", 1, 16, 3));
    let warnings = Warnings::default();
    let row = run_one(&plan, &gpu, &warnings, RunnerOptions::default());
    assert_eq!(
        (
            row.energy_j_per_sample,
            row.energy_j_per_batch,
            row.energy_source.as_deref()
        ),
        (None, None, None)
    );
    assert!((row.avg_gpu_power_w.unwrap() - 300.0).abs() < 1e-9);
    let warnings = warnings.0.into_inner();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("energy is not recorded")),
        "{warnings:?}"
    );
}

#[test]
fn a_gpu_that_cannot_be_matched_records_no_telemetry_and_warns() {
    // Mixed GPUs, no PCI bus id, CUDA's default fastest-first order: refuse to guess.
    let env = CudaEnv {
        visible_devices: Some("3,1".to_owned()),
        device_order: None,
    };
    let gpu = FakeGpu::new(0, None, &env, machine());
    let plan = Plan::new(&[entry("tiny", 32)], &settings("cuda:0", 1, 16, 3));
    let warnings = Warnings::default();
    let row = run_one(&plan, &gpu, &warnings, RunnerOptions::default());
    assert_eq!(
        (row.device_name.as_deref(), row.avg_gpu_power_w),
        (None, None)
    );
    let warnings = warnings.0.into_inner();
    assert!(
        warnings[0].contains("not recorded") && warnings[0].contains("CUDA_DEVICE_ORDER"),
        "{warnings:?}"
    );
    // With CUDA_DEVICE_ORDER=PCI_BUS_ID the entry '3' is NVML #3.
    let env = CudaEnv {
        device_order: Some("PCI_BUS_ID".to_owned()),
        ..env
    };
    let gpu = FakeGpu::new(0, None, &env, machine());
    let row = run_one(&plan, &gpu, &Warnings::default(), RunnerOptions::default());
    assert_eq!(row.device_name.as_deref(), Some("NVIDIA A10"));
}

#[test]
fn cpu_records_carry_the_seed_job_id_plan_hash_and_host_facts() {
    let plan = Plan::new(&[entry("tiny", 32)], &settings("cpu", 2, 16, 4));
    let row = run_one(
        &plan,
        &CpuDevice,
        &Warnings::default(),
        RunnerOptions::default(),
    );
    assert_eq!(row.seed, Some(11));
    assert_eq!(row.job_id.as_deref(), Some(plan.jobs()[0].id.as_str()));
    assert_eq!(row.plan_hash.as_deref(), Some(plan.hash()));
    assert_eq!(row.memory_kind.as_deref(), Some("host"));
    assert!(row.host_name.is_some() && row.cpu_model.is_some());
    assert_eq!(row.device_name, row.cpu_model);
    assert_eq!(row.avg_gpu_power_w, None);
    // The timestamp is RFC 3339 in UTC.
    let stamp = row.timestamp.unwrap();
    assert!(humantime::parse_rfc3339(&stamp).is_ok(), "{stamp}");
}

#[test]
fn a_failed_build_fails_its_jobs_and_the_run_goes_on() {
    let broken: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "broken", "model_type": "hf_bert", "pretrained_checkpoint": "/no/such/model.safetensors"
    }))
    .unwrap();
    let plan = Plan::new(&[broken, entry("tiny", 32)], &settings("cpu", 1, 16, 2));
    let results: Vec<_> = Runner::new(
        &plan,
        &CpuDevice,
        &Warnings::default(),
        RunnerOptions::default(),
    )
    .collect();
    assert!(matches!(
        &results[0].outcome,
        Outcome::Failed { stage: FailedStage::Build, cause } if cause.contains("/no/such/model.safetensors")
    ));
    assert!(matches!(results[1].outcome, Outcome::Measured(_)));
}

#[test]
fn an_interrupt_stops_the_run_at_the_next_batch() {
    let plan = Plan::new(
        &[entry("a", 32), entry("b", 32)],
        &settings("cpu", 1, 16, 1_000_000),
    );
    let interrupt = Arc::new(AtomicBool::new(false));
    struct StopWhenMeasuring(Arc<AtomicBool>);
    impl Observer for StopWhenMeasuring {
        fn progress(&self, p: timing_core::Progress, _: Option<u64>) {
            if p.phase == timing_core::Phase::Measure && p.iterations == 3 {
                self.0.store(true, Ordering::SeqCst);
            }
        }
    }
    let options = RunnerOptions {
        interrupt: Arc::clone(&interrupt),
        ..RunnerOptions::default()
    };
    let observer = StopWhenMeasuring(Arc::clone(&interrupt));
    let results: Vec<_> = Runner::new(&plan, &CpuDevice, &observer, options).collect();
    assert_eq!(results.len(), 1, "nothing runs after the interrupt");
    assert_eq!(results[0].outcome, Outcome::Interrupted);
}

#[test]
fn interleaved_shapes_run_their_models_in_rounds_and_keep_each_rounds_value() {
    let mut s = settings("cpu", 1, 8, 7);
    s.sequence_lengths = vec![8, 12];
    s.sampling.order = runner::Order::Interleaved { block: 3 };
    let plan = Plan::new(&[entry("a", 32), entry("b", 32)], &s);
    // Shape by shape: both models of seq 8, then both of seq 12.
    let order: Vec<(String, u32)> = plan
        .jobs()
        .iter()
        .map(|j| (j.job.model.name.clone(), j.job.sequence_length))
        .collect();
    assert_eq!(
        order,
        [("a", 8), ("b", 8), ("a", 12), ("b", 12)].map(|(m, q)| (m.to_owned(), q))
    );
    let rows: Vec<ResultRow> = Runner::new(
        &plan,
        &CpuDevice,
        &Warnings::default(),
        RunnerOptions::default(),
    )
    .map(|r| match r.outcome {
        Outcome::Measured(row) => *row,
        other => panic!("{other:?}"),
    })
    .collect();
    assert_eq!(rows.len(), 4);
    for row in &rows {
        // 7 batches in blocks of 3: 3 rounds, 9 batches.
        assert_eq!(row.order.as_deref(), Some("interleaved"));
        assert_eq!((row.rounds, row.block_batches), (Some(3), Some(3)));
        let rounds = row.round_latencies_ms.as_ref().unwrap();
        let samples = row.latencies_ms.as_ref().unwrap();
        assert_eq!((rounds.len(), samples.len()), (3, 9));
        // Each round's value is the mean of its block.
        let first_block = samples[..3].iter().sum::<f64>() / 3.0;
        assert!((rounds[0] - first_block).abs() < 1e-5); // whole nanoseconds
        assert_eq!(row.warmup_batches, Some(2));
        assert_eq!(row.peak_memory_mb, None);
        assert!(
            row.warnings
                .as_deref()
                .is_some_and(|w| w.contains("memory, power and energy are not recorded")),
            "{:?}",
            row.warnings
        );
    }
    // The rounds' values pair up for a paired comparison.
    let (a, b) = (
        rows[0].round_latencies_ms.as_ref().unwrap(),
        rows[1].round_latencies_ms.as_ref().unwrap(),
    );
    let paired =
        timing_core::stats::compare_paired(a, b, &timing_core::stats::CompareConfig::default())
            .unwrap();
    assert_eq!(paired.rounds, 3);
    // Sequential records say so.
    let sequential = run_one(
        &Plan::new(&[entry("a", 32)], &settings("cpu", 1, 8, 2)),
        &CpuDevice,
        &Warnings::default(),
        RunnerOptions::default(),
    );
    assert_eq!(sequential.order.as_deref(), Some("sequential"));
    assert_eq!(sequential.round_latencies_ms, None);
}

fn measured_rows(
    plan: &Plan,
    device: &dyn runner::Device,
    observer: &dyn Observer,
) -> Vec<ResultRow> {
    Runner::new(plan, device, observer, RunnerOptions::default())
        .map(|r| match r.outcome {
            Outcome::Measured(row) => *row,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn random_order_shuffles_the_jobs_by_the_seed_and_says_so() {
    let mut s = settings("cpu", 1, 8, 2);
    s.batch_sizes = vec![1, 2];
    s.sequence_lengths = vec![8, 12];
    let entries = [entry("a", 32), entry("b", 32), entry("c", 32)];
    let labels =
        |plan: &Plan| -> Vec<String> { plan.jobs().iter().map(|j| j.job.label()).collect() };
    let sequential = Plan::new(&entries, &s);
    s.sampling.order = runner::Order::Random;
    let random = Plan::new(&entries, &s);
    // The same jobs, in another order; the same seed gives the same order, another seed another.
    let (mut a, mut b) = (labels(&sequential), labels(&random));
    assert_ne!(a, b);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(labels(&Plan::new(&entries, &s)), labels(&random));
    assert_eq!(Plan::new(&entries, &s).hash(), random.hash());
    s.seed += 1;
    assert_ne!(labels(&Plan::new(&entries, &s)), labels(&random));
    s.seed -= 1;
    // Records say random.
    s.batch_sizes = vec![1];
    s.sequence_lengths = vec![8];
    let rows = measured_rows(
        &Plan::new(&entries[..2], &s),
        &CpuDevice,
        &Warnings::default(),
    );
    assert!(
        rows.iter().all(|r| r.order.as_deref() == Some("random")),
        "{rows:?}"
    );
}

#[test]
fn an_interleaved_shape_that_does_not_fit_runs_sequentially_with_a_warning_in_its_records() {
    let env = CudaEnv::default();
    let mut s = settings("cuda:0", 1, 8, 3);
    s.sampling.order = runner::Order::Interleaved { block: 1 };
    let plan = Plan::new(&[entry("a", 32), entry("b", 32)], &s);
    // Weights of one model: python3 -c "h=32;v=128;l=2;print(...)" is not needed: the dry run's
    // figure is the truth here.
    let cost: u64 = runner::inspect(&plan, &CpuDevice)
        .iter()
        .map(|(_, c)| c.as_ref().unwrap().weight_bytes)
        .sum();
    // Room for one model's weights but not both with 20% headroom.
    let tight = FakeGpu::new(0, None, &env, machine()).with_available_memory(cost * 3 / 4);
    let warnings = Warnings::default();
    let rows = measured_rows(&plan, &tight, &warnings);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.order.as_deref(), Some("sequential"), "{row:?}");
        assert_eq!((row.rounds, row.round_latencies_ms.as_ref()), (None, None));
        let warning = row.warnings.as_deref().unwrap_or_default();
        assert!(
            warning.contains("instead of interleaved") && warning.contains("the 2 models"),
            "{warning}"
        );
        // Measured sequentially, so memory is recorded again.
        assert!(row.peak_memory_mb.is_some());
    }
    assert!(
        warnings
            .0
            .borrow()
            .iter()
            .any(|w| w.contains("instead of interleaved"))
    );
    // With room for both (and 20%), the shape is interleaved.
    let roomy = FakeGpu::new(0, None, &env, machine()).with_available_memory(cost * 2);
    let rows = measured_rows(&plan, &roomy, &Warnings::default());
    assert!(rows.iter().all(|r| {
        r.order.as_deref() == Some("interleaved")
            && !r
                .warnings
                .as_deref()
                .unwrap_or_default()
                .contains("instead of interleaved")
    }));
}

#[test]
fn the_first_model_built_records_the_process_cold_start() {
    let plan = Plan::new(&[entry("a", 32), entry("b", 32)], &settings("cpu", 1, 8, 2));
    let age_before = gpu_telemetry::host::process_age().unwrap().as_secs_f64();
    let rows = measured_rows(&plan, &CpuDevice, &Warnings::default());
    let age_after = gpu_telemetry::host::process_age().unwrap().as_secs_f64();
    let cold = rows[0]
        .process_to_built_s
        .expect("the first job's cold start");
    // /proc's start time has a 10 ms tick.
    assert!(
        cold + 0.011 >= age_before && cold <= age_after + 0.011,
        "{cold} not in [{age_before}, {age_after}]"
    );
    assert_eq!(rows[1].process_to_built_s, None);
    // The warm-up latencies are kept, the first being the cold call.
    let warmup = rows[0].warmup_latencies_ms.as_ref().unwrap();
    assert_eq!(warmup.len(), 2);
    assert_eq!(Some(warmup[0]), rows[0].first_latency);
}
