//! The one `match` on the architecture: a [`ModelEntry`] becomes a runnable [`Model`].

use std::panic::AssertUnwindSafe;

use tch::{Device, Kind, Tensor};

use crate::checkpoint::{self, NameReport};
use crate::config::{Architecture, ModelEntry, ModelType};
use crate::error::{Error, Result};
use crate::inputs::Batch;
use crate::layers::params::{
    CheckpointParams, ParamSource, PlaceholderParams, RandomParams, placeholder,
};
use crate::models::aoti::Aoti;
use crate::models::bert::Bert;
use crate::models::flex_bert::FlexBert;
use crate::models::mosaic_bert::MosaicBert;
use crate::models::onnx::Onnx;
use crate::models::torchscript::TorchScript;
use crate::models::{Dims, External, Task};

/// How to build a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildOptions {
    /// Where the parameters live.
    pub device: Device,
    /// Float type: `Kind::Float`, `Kind::Half` or `Kind::BFloat16`.
    pub kind: Kind,
    /// Seed of random weights.
    pub seed: u64,
    /// Sequence length the RoPE tables are built for up front (they grow on demand).
    pub max_len: i64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            device: Device::Cpu,
            kind: Kind::Float,
            seed: 0,
            max_len: 512,
        }
    }
}

enum Arch {
    Bert(Box<Bert>),
    Mosaic(Box<MosaicBert>),
    Flex(Box<FlexBert>),
    /// A TorchScript, AOTInductor or ONNX file's model.
    Script {
        module: Box<dyn External>,
        vocab: i64,
    },
}

/// A built model, ready to run.
pub struct Model {
    arch: Arch,
    task: Task,
    num_parameters: u64,
    max_positions: Option<i64>,
    device: Device,
    warnings: Vec<String>,
}

/// Builds the model an entry describes, with random weights or its checkpoint.
///
/// # Errors
/// [`Error::Config`] for an invalid entry, [`Error::CheckpointFile`] for an unusable file,
/// [`Error::Checkpoint`] listing every missing or misshaped tensor.
/// A libtorch failure while building (tch panics on its C++ exceptions, e.g. out of memory) is
/// [`Error::Build`], not a panic.
pub fn build(entry: &ModelEntry, options: &BuildOptions) -> Result<Model> {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        build_model(entry, options, Weights::Real)
    }))
    .unwrap_or_else(|panic| Err(Error::Build(panic_message(panic.as_ref()))))
}

/// An entry's architecture without its weights: shapes, parameter count, FLOPs and the input
/// checks of the [`Model`] that [`build`] would make, at almost no cost in time or memory (each
/// parameter is a stand-in of one value, see
/// [`PlaceholderParams`](crate::layers::params::PlaceholderParams)). For `--dry-run`.
///
/// A checkpoint entry is checked by its header only (every name and shape, as [`build`] checks
/// them, without reading the tensors); a TorchScript entry is loaded, its parameters being
/// known only from the module.
pub struct Blueprint {
    model: Model,
}

/// The [`Blueprint`] of an entry: what [`build`] would make, without weights. The parameters
/// stay on the CPU whatever `options.device` (a TorchScript module is still loaded onto it).
///
/// # Errors
/// As [`build`], except that the checkpoint's tensor data is not read.
pub fn blueprint(entry: &ModelEntry, options: &BuildOptions) -> Result<Blueprint> {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        build_model(entry, options, Weights::Placeholders)
    }))
    .unwrap_or_else(|panic| Err(Error::Build(panic_message(panic.as_ref()))))
    .map(|model| Blueprint { model })
}

impl Blueprint {
    /// Parameters, counting tied weights once (as [`Model::num_parameters`]).
    pub fn num_parameters(&self) -> u64 {
        self.model.num_parameters()
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.model.task()
    }

    /// Shape facts (as [`Model::dims`]).
    pub fn dims(&self) -> Dims {
        self.model.dims()
    }

    /// Unused checkpoint tensors, one line each (as [`Model::warnings`]).
    pub fn warnings(&self) -> &[String] {
        self.model.warnings()
    }

    /// FLOPs of one forward pass (as [`Model::flops`]).
    pub fn flops(&self, batch: i64, seq: i64) -> Option<f64> {
        self.model.flops(batch, seq)
    }

    /// Checks inputs as [`Model::check_inputs`] would.
    ///
    /// # Errors
    /// As [`Model::check_inputs`].
    pub fn check_inputs(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<()> {
        self.model.check_inputs(input_ids, attention_mask)
    }
}

/// What fills a model's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weights {
    /// Random values for the seed, or the checkpoint's tensors.
    Real,
    /// Stand-ins with the shapes only, on the CPU.
    Placeholders,
}

/// The first line of a panic's message (libtorch appends a C++ backtrace after it).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "libtorch failed".to_owned());
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("libtorch failed")
        .to_owned()
}

fn build_model(entry: &ModelEntry, options: &BuildOptions, weights: Weights) -> Result<Model> {
    let task = entry.task()?;
    let architecture = entry.architecture()?;
    if !matches!(options.kind, Kind::Float | Kind::Half | Kind::BFloat16) {
        return Err(Error::Config(format!(
            "dtype {:?} is not supported; expected fp32, fp16 or bf16",
            options.kind
        )));
    }
    if let Architecture::External { format, vocab } = architecture {
        // architecture() checked that the entry names its file; this checks the file.
        let path = entry.checkpoint_file()?.unwrap_or_default();
        let module: Box<dyn External> = match format {
            ModelType::Aoti => Box::new(Aoti::load(&path, options.device, options.kind)?),
            ModelType::Onnx => Box::new(Onnx::load(&path, options.device, options.kind)?),
            _ => Box::new(TorchScript::load(&path, options.device, options.kind)?),
        };
        // The file's own vocabulary, when it states one, bounds the ids: an entry may not ask
        // for more (ids beyond it can abort a compiled kernel), and without `vocab_size` the
        // file's is used.
        let vocab = match module.vocab() {
            Some(own) if entry.model_config.contains_key("vocab_size") && vocab > own => {
                return Err(Error::Config(format!(
                    "model_config.vocab_size: {vocab} exceeds the vocabulary of {} ({own}); \
                     token ids must be below it",
                    path.display()
                )));
            }
            Some(own) if !entry.model_config.contains_key("vocab_size") => own,
            // A compiled package states no vocabulary when scripts/export_aoti.py did not make it:
            // a guess (30522) could put ids beyond it, which aborts the process in its kernel.
            None if format == ModelType::Aoti && !entry.model_config.contains_key("vocab_size") => {
                return Err(Error::Config(format!(
                    "model_config.vocab_size: {} states no vocabulary (it was not made by \
                     scripts/export_aoti.py); set vocab_size to the model's, since token ids \
                     beyond it abort the process inside the compiled code",
                    path.display()
                )));
            }
            _ => vocab,
        };
        return Ok(Model {
            num_parameters: module.num_parameters(),
            arch: Arch::Script { module, vocab },
            task,
            max_positions: None,
            device: options.device,
            warnings: Vec::new(),
        });
    }
    let device = match weights {
        Weights::Real => options.device,
        Weights::Placeholders => Device::Cpu,
    };
    match &entry.pretrained_checkpoint {
        None => {
            let mut params: Box<dyn ParamSource> = match weights {
                Weights::Real => Box::new(RandomParams::new(options.seed, device, options.kind)),
                Weights::Placeholders => Box::new(PlaceholderParams::new(options.kind)),
            };
            let (arch, max_positions) = construct(&architecture, task, params.as_mut(), options)?;
            Ok(Model {
                arch,
                task,
                num_parameters: params.count(),
                max_positions,
                device,
                warnings: Vec::new(),
            })
        }
        Some(path) => {
            let file = checkpoint::resolve(path)?;
            let mut params = match weights {
                // Each tensor is read when the model takes it (one copy of the weights).
                Weights::Real => {
                    let reader = checkpoint::Reader::open(&file)?;
                    let shared = reader.header().shared_names();
                    CheckpointParams::from_reader(reader, device, options.kind)
                        .with_shared_names(shared)
                }
                Weights::Placeholders => {
                    let header = checkpoint::read_header(&file)?;
                    let tensors = header
                        .tensors
                        .iter()
                        .map(|(name, shape)| (name.clone(), placeholder(shape, options.kind)))
                        .collect();
                    CheckpointParams::new(tensors, device, options.kind)
                        .with_shared_names(header.shared_names())
                }
            };
            let (arch, max_positions) = construct(&architecture, task, &mut params, options)?;
            let num_parameters = params.count();
            let report: NameReport = params.finish()?;
            if !report.is_usable() {
                return Err(Error::Checkpoint {
                    path: file,
                    arch: entry.model_type.as_str().to_owned(),
                    report,
                });
            }
            let warnings = report
                .unexpected
                .iter()
                .map(|(name, shape)| {
                    format!(
                        "{}: unused tensor {name} {shape:?} in {}",
                        entry.name,
                        file.display()
                    )
                })
                .collect();
            Ok(Model {
                arch,
                task,
                num_parameters,
                max_positions,
                device,
                warnings,
            })
        }
    }
}

fn construct(
    architecture: &Architecture,
    task: Task,
    params: &mut dyn ParamSource,
    options: &BuildOptions,
) -> Result<(Arch, Option<i64>)> {
    Ok(match architecture {
        Architecture::Bert(c) => (
            Arch::Bert(Box::new(Bert::new(c, task, params)?)),
            Some(c.max_position_embeddings),
        ),
        Architecture::Mosaic(c) => (
            Arch::Mosaic(Box::new(MosaicBert::new(c, task, params)?)),
            None,
        ),
        Architecture::Flex(spec) => (
            Arch::Flex(Box::new(FlexBert::new(
                spec.clone(),
                task,
                params,
                options.max_len,
            ))),
            spec.position,
        ),
        Architecture::External { format, .. } => {
            return Err(Error::Config(format!(
                "a {} entry is loaded, not constructed",
                format.as_str()
            )));
        }
    })
}

impl Model {
    /// Parameters, counting tied weights once.
    pub fn num_parameters(&self) -> u64 {
        self.num_parameters
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Vocabulary, hidden size, layers, heads (for a TorchScript module only the vocabulary is
    /// known; the rest are 0).
    pub fn dims(&self) -> Dims {
        match &self.arch {
            Arch::Bert(m) => m.dims(),
            Arch::Mosaic(m) => m.dims(),
            Arch::Flex(m) => m.dims(),
            Arch::Script { vocab, .. } => Dims {
                vocab: *vocab,
                hidden: 0,
                layers: 0,
                heads: 0,
            },
        }
    }

    /// Unused checkpoint tensors, one line each (not errors).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Analytic floating-point operations of one padded forward pass of `batch × seq` tokens:
    /// every matrix product (2 per multiply-add) and attention's two products; norms, activations
    /// and softmax are left out. `None` for a TorchScript module, whose architecture is unknown.
    pub fn flops(&self, batch: i64, seq: i64) -> Option<f64> {
        match &self.arch {
            Arch::Bert(m) => Some(m.flops(batch, seq)),
            Arch::Mosaic(m) => Some(m.flops(batch, seq)),
            Arch::Flex(m) => Some(m.flops(batch, seq)),
            Arch::Script { .. } => None,
        }
    }

    /// Checks inputs for [`Model::run`]: `input_ids` and `attention_mask` both int64 `[B, S]`, `S`
    /// within the model's positions, the mask right-padded, token ids within the vocabulary. Reading the id range costs a
    /// reduction and (on CUDA) a device sync, so check once, outside any timed loop.
    ///
    /// # Errors
    /// [`Error::Inputs`] naming what is wrong.
    pub fn check_inputs(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<()> {
        let size = input_ids.size();
        if size.len() != 2 || attention_mask.size() != size {
            return Err(Error::Inputs(format!(
                "input_ids {size:?} and attention_mask {:?} must both be [batch, sequence]",
                attention_mask.size()
            )));
        }
        for (name, t) in [("input_ids", input_ids), ("attention_mask", attention_mask)] {
            if t.kind() != Kind::Int64 {
                return Err(Error::Inputs(format!(
                    "{name} must be int64, got {:?}",
                    t.kind()
                )));
            }
        }
        if let Arch::Script { module, .. } = &self.arch {
            module.check_shape(size[0], size[1])?;
        }
        if let Some(max) = self.max_positions {
            if size[1] > max {
                return Err(Error::Inputs(format!(
                    "sequence length {} exceeds the model's max_position_embeddings {max}",
                    size[1]
                )));
            }
        }
        if size[1] > 1 {
            let real = attention_mask.ne(0);
            let seq = size[1];
            let gap = real
                .narrow(1, 1, seq - 1)
                .logical_and(&real.narrow(1, 0, seq - 1).logical_not());
            if gap.any().int64_value(&[]) != 0 {
                return Err(Error::Inputs(
                    "attention_mask must be right-padded (each row's real tokens first, then \
                     padding)"
                        .to_owned(),
                ));
            }
        }
        let vocab = self.dims().vocab;
        if size.iter().product::<i64>() > 0 {
            let (low, high) = (
                input_ids.min().int64_value(&[]),
                input_ids.max().int64_value(&[]),
            );
            if low < 0 || high >= vocab {
                return Err(Error::Inputs(format!(
                    "token ids span {low}..={high}, outside the vocabulary 0..{vocab}"
                )));
            }
        }
        Ok(())
    }

    /// Checks the inputs ([`Model::check_inputs`]) and runs one forward pass ([`Model::run`]).
    /// Returns classification logits `[B, L]`, MLM logits `[B, S, V]` or the last hidden state
    /// `[B, S, H]`.
    ///
    /// # Errors
    /// As [`Model::check_inputs`] and [`Model::run`].
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        self.check_inputs(input_ids, attention_mask)?;
        self.run(input_ids, attention_mask)
    }

    /// Runs one forward pass without gradients on inputs that passed [`Model::check_inputs`]
    /// (right-padded, moved to the model's device if needed): the call to time.
    ///
    /// # Errors
    /// A libtorch failure (e.g. out of memory) as [`Error::Forward`] with libtorch's message.
    pub fn run(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        self.run_with_lengths(input_ids, attention_mask, None)
    }

    /// Runs one forward pass of a [`Batch`] (see [`Model::run`]), passing its host-side row
    /// lengths so that the model need not read them back from the device.
    ///
    /// Device-to-host syncs that remain per forward on CUDA, by model type: `hf_bert` none;
    /// `flex_bert`/`modern_bert` padded none; unpadded (`modern_bert`, `mosaic_bert`, FlexBERT with
    /// `padding: unpadded`) one to find the real tokens' positions (`nonzero`), plus one host-to-
    /// device copy of the row starts for classification pooling; `torchscript` whatever the
    /// module does.
    ///
    /// # Errors
    /// As [`Model::run`].
    pub fn run_batch(&self, batch: &Batch) -> Result<Tensor> {
        let lengths: Vec<i64> = batch.lengths.iter().map(|&n| i64::from(n)).collect();
        self.run_with_lengths(&batch.input_ids, &batch.attention_mask, Some(&lengths))
    }

    fn run_with_lengths(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        lengths: Option<&[i64]>,
    ) -> Result<Tensor> {
        let ids = input_ids.to_device(self.device);
        let mask = attention_mask.to_device(self.device);
        if let Arch::Script { module, .. } = &self.arch {
            return module.forward(&ids, &mask);
        }
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            tch::no_grad(|| match &self.arch {
                Arch::Bert(m) => m.forward_with_lengths(&ids, &mask, lengths),
                Arch::Mosaic(m) => m.forward_with_lengths(&ids, &mask, lengths),
                Arch::Flex(m) => m.forward_with_lengths(&ids, &mask, lengths),
                Arch::Script { .. } => unreachable!("handled above"),
            })
        }))
        .map_err(|panic| Error::Forward(panic_message(panic.as_ref())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(model_type: &str, name: &str, task: &str) -> ModelEntry {
        serde_json::from_value(serde_json::json!({
            "name": "x", "model_type": model_type, "task_type": task, "pretrained_model_name": name
        }))
        .unwrap()
    }

    #[test]
    fn blueprints_count_what_transformers_counts_without_weights() {
        // sum(p.numel() for p in model.parameters()) in transformers (tests/it/presets.rs).
        for (entry, want) in [
            (
                preset("hf_bert", "bert-base-uncased", "classification"),
                109_483_778,
            ),
            (
                preset("modern_bert", "answerdotai/ModernBERT-base", "mlm"),
                149_655_232,
            ),
        ] {
            let options = BuildOptions {
                kind: Kind::BFloat16,
                ..BuildOptions::default()
            };
            let plan = blueprint(&entry, &options).unwrap();
            assert_eq!(plan.num_parameters(), want);
            assert_eq!(plan.dims().hidden, 768);
        }
    }

    #[test]
    fn a_blueprint_has_the_built_models_flops_and_checks() {
        let entry: ModelEntry = serde_json::from_value(serde_json::json!({
            "name": "tiny", "model_type": "modern_bert", "task_type": "classification",
            "model_config": {"hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
                             "intermediate_size": 96, "vocab_size": 300,
                             "max_position_embeddings": 64}
        }))
        .unwrap();
        let options = BuildOptions::default();
        let (model, plan) = (
            build(&entry, &options).unwrap(),
            blueprint(&entry, &options).unwrap(),
        );
        assert_eq!(plan.num_parameters(), model.num_parameters());
        for (batch, seq) in [(1, 8), (4, 64), (2, 200)] {
            assert_eq!(plan.flops(batch, seq), model.flops(batch, seq));
        }
        let ids = Tensor::from_slice(&[299i64, 300]).view([1, 2]);
        let (a, b) = (
            plan.check_inputs(&ids, &ids.ones_like()),
            model.check_inputs(&ids, &ids.ones_like()),
        );
        assert_eq!(a.unwrap_err().to_string(), b.unwrap_err().to_string());
    }

    #[test]
    fn a_checkpoint_blueprint_reads_the_header_and_names_what_does_not_fit() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(data.join("bert_cls.json")).unwrap())
                .unwrap();
        let dir = std::env::temp_dir().join(format!("model-zoo-blueprint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = meta["config"].clone();
        config["model_type"] = "bert".into();
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let entry = |checkpoint: &std::path::Path| -> ModelEntry {
            serde_json::from_value(serde_json::json!({
                "name": "x", "model_type": "hf_bert", "task_type": "classification",
                "num_labels": 3, "pretrained_model_name": dir, "pretrained_checkpoint": checkpoint,
            }))
            .unwrap()
        };
        let options = BuildOptions::default();
        let good = entry(&data.join("bert_cls.safetensors"));
        assert_eq!(
            blueprint(&good, &options).unwrap().num_parameters(),
            build(&good, &options).unwrap().num_parameters()
        );
        // One tensor dropped, one cut short: both paths give the same complete report.
        let broken: Vec<(String, Tensor)> = checkpoint::read(&data.join("bert_cls.safetensors"))
            .unwrap()
            .into_iter()
            .filter(|(name, _)| !name.ends_with("layer.1.output.dense.bias"))
            .map(|(name, t)| match name.ends_with("classifier.weight") {
                true => (name, t.narrow(0, 0, 2)),
                false => (name, t),
            })
            .collect();
        let file = dir.join("broken.safetensors");
        Tensor::write_safetensors(&broken, &file).unwrap();
        let bad = entry(&file);
        let (from_header, from_tensors) = (
            blueprint(&bad, &options).err().unwrap().to_string(),
            build(&bad, &options).err().unwrap().to_string(),
        );
        assert_eq!(from_header, from_tensors);
        assert!(
            from_header.contains("layer.1.output.dense.bias")
                && from_header.contains("classifier.weight"),
            "{from_header}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_libtorch_error_while_building_is_an_error_not_a_panic() {
        if tch::Cuda::device_count() > 0 {
            return; // the failure below needs a machine without a GPU
        }
        let entry: ModelEntry = serde_json::from_value(serde_json::json!({
            "name": "tiny", "model_type": "hf_bert",
            "model_config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                             "intermediate_size": 64, "vocab_size": 128}
        }))
        .unwrap();
        // Moving weights to a GPU that is not there makes libtorch throw while building.
        let options = BuildOptions {
            device: Device::Cuda(0),
            ..BuildOptions::default()
        };
        let err = build(&entry, &options)
            .err()
            .expect("no GPU, so the build fails");
        assert!(matches!(err, Error::Build(ref m) if !m.is_empty()), "{err}");
    }
}
