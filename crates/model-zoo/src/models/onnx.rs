//! An ONNX model (`model_type: onnx`) run by ONNX Runtime through the `ort` crate, whose shared
//! library is loaded at run time (`load-dynamic`): from `ORT_DYLIB_PATH` when set, else from the
//! `onnxruntime` wheel that `cargo xtask bootstrap` installs (the checkout's `.onnxruntime` link,
//! whose path is compiled in).
//!
//! The model takes `input_ids` and `attention_mask` (int64 or int32 `[B, S]`; a
//! `token_type_ids` input, if it has one, gets zeros), and its first output (float32) is the
//! model's output. The session uses every graph optimisation (level 3) and `--threads` intra-op
//! threads; on `cuda:N` it uses the CUDA execution provider, which the wheel `bootstrap`
//! installs does not have (that needs `onnxruntime-gpu`, named with `ORT_DYLIB_PATH`).
//!
//! Inputs are copied from libtorch into ONNX Runtime and the output back into a libtorch tensor:
//! the copies are part of each timed forward (a few kB for ids and classification logits; for
//! MLM logits `[B, S, V]` they are large, which the docs point out).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::execution_providers::CUDAExecutionProvider;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::tensor::TensorElementType;
use ort::value::{Tensor as OrtTensor, ValueType};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};

/// The folder of ONNX Runtime's library that `cargo xtask bootstrap` links (`.onnxruntime`, set
/// by `.cargo/config.toml` at build time).
const BOOTSTRAP_DIR: Option<&str> = option_env!("BERT_LATENCY_ONNXRUNTIME");

/// The custom metadata key `scripts/export_onnx.py` writes with the parameter count.
const NUM_PARAMETERS_KEY: &str = "num_parameters";

/// A loaded ONNX model.
pub struct Onnx {
    session: Mutex<Session>,
    inputs: Vec<(String, Feed)>,
    num_parameters: u64,
}

/// What one graph input receives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Feed {
    /// The token ids, as int64 or int32.
    Ids(TensorElementType),
    /// The attention mask, as int64 or int32.
    Mask(TensorElementType),
    /// Zeros of the batch's shape (`token_type_ids`).
    Zeros(TensorElementType),
}

/// The ONNX Runtime library to load: `ORT_DYLIB_PATH`, else the bootstrapped wheel's.
///
/// # Errors
/// [`Error::Runtime`] when neither names an existing library.
pub fn runtime_library() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(Error::Runtime(format!(
            "ORT_DYLIB_PATH={} is not a file; point it at libonnxruntime.so",
            path.display()
        )));
    }
    let found = BOOTSTRAP_DIR.and_then(|dir| {
        let mut libs: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
            })
            .collect();
        libs.sort();
        libs.pop()
    });
    found.ok_or_else(|| {
        Error::Runtime(format!(
            "ONNX Runtime's library was not found (looked in {}): run `cargo xtask bootstrap`, \
             which installs the onnxruntime wheel, or set ORT_DYLIB_PATH to a libonnxruntime.so",
            BOOTSTRAP_DIR.unwrap_or("no bootstrap folder: this binary was built without one")
        ))
    })
}

/// Loads ONNX Runtime once per process; later calls return the first outcome.
fn init_runtime() -> Result<()> {
    static INIT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        let library = runtime_library().map_err(|e| e.to_string())?;
        // `ort` loads the library lazily and panics when it cannot; catch that here, once.
        let committed = std::panic::catch_unwind(|| {
            ort::init_from(library.display().to_string())
                .with_name("bert-latency")
                .commit()
        });
        match committed {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!(
                "ONNX Runtime at {} could not be initialised: {e}",
                library.display()
            )),
            Err(_) => Err(format!(
                "{} is not a usable ONNX Runtime library (a missing file, another architecture, \
                 or a release older than the C API this build needs); set ORT_DYLIB_PATH to \
                 another libonnxruntime.so or rerun `cargo xtask bootstrap`",
                library.display()
            )),
        }
    })
    .clone()
    .map_err(Error::Runtime)
}

impl Onnx {
    /// Loads `path` into an ONNX Runtime session for `device`, using `threads` intra-op threads.
    ///
    /// # Errors
    /// [`Error::Runtime`] when ONNX Runtime cannot be loaded or has no CUDA provider for a CUDA
    /// device; [`Error::CheckpointFile`] when the file is missing or not a usable ONNX model (no
    /// `input_ids` or `attention_mask` input, another input it needs, an output that is not a
    /// float32 tensor); [`Error::Config`] when `kind` is not float32 (an ONNX model runs in the
    /// precision it was exported in).
    pub fn load(path: &Path, device: Device, kind: Kind) -> Result<Self> {
        let file_error = |message: String| Error::CheckpointFile {
            path: path.to_owned(),
            message,
        };
        if !path.is_file() {
            return Err(file_error(
                "not found (an onnx entry needs the .onnx file, from scripts/export_onnx.py)"
                    .to_owned(),
            ));
        }
        if kind != Kind::Float {
            return Err(Error::Config(format!(
                "dtype {kind:?}: an onnx entry runs in the precision it was exported in; measure it \
                 with --dtype fp32 (export another precision with scripts/export_onnx.py)"
            )));
        }
        init_runtime()?;
        let threads = usize::try_from(crate::dtype::threads()).unwrap_or(1).max(1);
        let ort_error = |what: &str, e: ort::Error| Error::Runtime(format!("{what}: {e}"));
        let mut builder = Session::builder()
            .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3))
            .and_then(|b| b.with_intra_threads(threads))
            .and_then(|b| b.with_inter_threads(1))
            .map_err(|e| ort_error("configuring the ONNX Runtime session", e))?;
        if let Device::Cuda(index) = device {
            let cuda = CUDAExecutionProvider::default()
                .with_device_id(i32::try_from(index).unwrap_or(0))
                .build()
                .error_on_failure();
            builder = builder.with_execution_providers([cuda]).map_err(|e| {
                Error::Runtime(format!(
                    "ONNX Runtime's CUDA execution provider is not available ({e}); the \
                     onnxruntime wheel has none: set ORT_DYLIB_PATH to the libonnxruntime.so of \
                     onnxruntime-gpu"
                ))
            })?;
        }
        let session = builder
            .commit_from_file(path)
            .map_err(|e| file_error(format!("not a usable ONNX model: {e}")))?;
        let inputs = feeds(&session).map_err(file_error)?;
        check_output(&session).map_err(file_error)?;
        let num_parameters = session
            .metadata()
            .ok()
            .and_then(|m| m.custom(NUM_PARAMETERS_KEY).ok().flatten())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        Ok(Self {
            session: Mutex::new(session),
            inputs,
            num_parameters,
        })
    }
}

/// What each graph input receives, or why the model cannot be fed.
fn feeds(session: &Session) -> std::result::Result<Vec<(String, Feed)>, String> {
    let names: Vec<&str> = session.inputs.iter().map(|i| i.name.as_str()).collect();
    let mut feeds = Vec::new();
    for input in &session.inputs {
        let ty = match &input.input_type {
            ValueType::Tensor { ty, .. } => *ty,
            other => {
                return Err(format!(
                    "input '{}' is a {other}, not a tensor of token ids",
                    input.name
                ));
            }
        };
        if !matches!(ty, TensorElementType::Int64 | TensorElementType::Int32) {
            return Err(format!(
                "input '{}' holds {ty}, not int64 or int32 token ids",
                input.name
            ));
        }
        let feed = match input.name.as_str() {
            "input_ids" => Feed::Ids(ty),
            "attention_mask" => Feed::Mask(ty),
            "token_type_ids" => Feed::Zeros(ty),
            other => {
                return Err(format!(
                    "it has an input '{other}' that bert-latency cannot feed (its inputs: {}); \
                     export it with inputs input_ids and attention_mask (scripts/export_onnx.py)",
                    names.join(", ")
                ));
            }
        };
        feeds.push((input.name.clone(), feed));
    }
    for needed in ["input_ids", "attention_mask"] {
        if !names.contains(&needed) {
            return Err(format!(
                "it has no input '{needed}' (its inputs: {}); export it with inputs input_ids and \
                 attention_mask (scripts/export_onnx.py)",
                names.join(", ")
            ));
        }
    }
    Ok(feeds)
}

/// Checks that the first output is a float32 tensor.
fn check_output(session: &Session) -> std::result::Result<(), String> {
    match session.outputs.first().map(|o| (&o.name, &o.output_type)) {
        Some((_, ValueType::Tensor { ty, .. })) if *ty == TensorElementType::Float32 => Ok(()),
        Some((name, other)) => Err(format!(
            "its first output '{name}' is {other}, not a float32 tensor (export it in fp32)"
        )),
        None => Err("it has no output".to_owned()),
    }
}

/// `tensor` (int64 `[B, S]`) as an ONNX Runtime tensor of `ty`.
fn to_ort(tensor: &Tensor, ty: TensorElementType) -> Result<ort::value::DynValue> {
    let shape: Vec<i64> = tensor.size();
    let flat = tensor.to_device(Device::Cpu).contiguous().view(-1);
    let values = Vec::<i64>::try_from(&flat)
        .map_err(|e| Error::Inputs(format!("reading the batch for ONNX Runtime: {e}")))?;
    let value = if ty == TensorElementType::Int32 {
        let narrow: Vec<i32> = values.iter().map(|&v| v as i32).collect();
        OrtTensor::from_array((shape, narrow)).map(|t| t.into_dyn())
    } else {
        OrtTensor::from_array((shape, values)).map(|t| t.into_dyn())
    };
    value.map_err(|e| Error::Inputs(format!("making ONNX Runtime's input: {e}")))
}

impl super::External for Onnx {
    fn num_parameters(&self) -> u64 {
        self.num_parameters
    }

    fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let mut values = Vec::with_capacity(self.inputs.len());
        for (name, feed) in &self.inputs {
            let value = match *feed {
                Feed::Ids(ty) => to_ort(input_ids, ty)?,
                Feed::Mask(ty) => to_ort(attention_mask, ty)?,
                Feed::Zeros(ty) => to_ort(&input_ids.zeros_like(), ty)?,
            };
            values.push((name.as_str(), value));
        }
        let mut session = self
            .session
            .lock()
            .map_err(|_| Error::Inputs("the ONNX Runtime session was poisoned".to_owned()))?;
        let outputs = session
            .run(values)
            .map_err(|e| Error::Inputs(format!("ONNX Runtime could not run the model: {e}")))?;
        let (shape, data) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| Error::Inputs(format!("reading ONNX Runtime's output: {e}")))?;
        let dims: Vec<i64> = shape.to_vec();
        Ok(Tensor::from_slice(data).view(dims.as_slice()))
    }
}
