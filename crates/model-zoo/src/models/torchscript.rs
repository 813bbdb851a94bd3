//! Any TorchScript module (`model_type: torchscript`): its forward takes `(input_ids,
//! attention_mask)`, and the first tensor of whatever it returns is the output.

use std::path::Path;

use tch::jit::{CModule, IValue};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};

/// A loaded TorchScript module, in eval mode, on its device.
pub struct TorchScript {
    module: CModule,
    num_parameters: u64,
}

impl TorchScript {
    /// Loads `path` onto `device`, converting its floating-point parameters to `kind`.
    ///
    /// # Errors
    /// [`Error::CheckpointFile`] when the file is missing or is not a TorchScript archive.
    pub fn load(path: &Path, device: Device, kind: Kind) -> Result<Self> {
        let file_error = |message: String| Error::CheckpointFile {
            path: path.to_owned(),
            message,
        };
        if !path.is_file() {
            return Err(file_error(
                "not found (a torchscript entry needs the .pt file)".to_owned(),
            ));
        }
        let mut module = CModule::load_on_device(path, device).map_err(|e| {
            file_error(format!(
                "not a TorchScript file (save one with torch.jit.trace or torch.jit.script, then \
                 .save()): {}",
                first_line(&e.to_string())
            ))
        })?;
        module.set_eval();
        if kind != Kind::Float {
            module.to(device, kind, false);
        }
        let num_parameters = module
            .named_parameters()
            .map_err(|e| file_error(first_line(&e.to_string())))?
            .iter()
            .map(|(_, t)| t.numel() as u64)
            .sum();
        Ok(Self {
            module,
            num_parameters,
        })
    }
}

impl super::External for TorchScript {
    /// Parameters of the module (its submodules' included).
    fn num_parameters(&self) -> u64 {
        self.num_parameters
    }

    /// Runs the module and returns the first tensor of its output.
    ///
    /// # Errors
    /// [`Error::Inputs`] with libtorch's message when the module fails, or when it returns no
    /// tensor.
    fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let inputs = [
            IValue::Tensor(input_ids.shallow_clone()),
            IValue::Tensor(attention_mask.shallow_clone()),
        ];
        let output = tch::no_grad(|| self.module.forward_is(&inputs)).map_err(|e| {
            Error::Inputs(format!(
                "the TorchScript forward(input_ids, attention_mask) failed: {}",
                cause(&e.to_string())
            ))
        })?;
        first_tensor(output)
            .ok_or_else(|| Error::Inputs("the TorchScript module returned no tensor".to_owned()))
    }
}

/// The first tensor of a module output: the tensor itself, or depth-first through tuples, lists
/// and dict values (in the dict's insertion order).
fn first_tensor(value: IValue) -> Option<Tensor> {
    match value {
        IValue::Tensor(t) => Some(t),
        IValue::TensorList(list) => list.into_iter().next(),
        IValue::Tuple(items) | IValue::GenericList(items) => {
            items.into_iter().find_map(first_tensor)
        }
        IValue::GenericDict(pairs) => pairs.into_iter().find_map(|(_, v)| first_tensor(v)),
        _ => None,
    }
}

/// The cause in a TorchScript interpreter error: its last line (e.g. `RuntimeError: mat1 and mat2
/// must have the same dtype`), after the TorchScript tracebacks; else the first line.
fn cause(message: &str) -> String {
    if message.contains("TorchScript interpreter") {
        if let Some(last) = message.lines().rev().find(|l| !l.trim().is_empty()) {
            return last.trim().to_owned();
        }
    }
    first_line(message)
}

/// libtorch messages carry a C++ backtrace after the first line.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}
