//! An AOTInductor package (`model_type: aoti`): a `.pt2` file made by
//! `torch._inductor.aoti_compile_and_package` from a `torch.export`ed model whose forward takes
//! `(input_ids, attention_mask)`; its first output is the model's output. Loaded and run by
//! libtorch's `torch::inductor::AOTIModelPackageLoader` through the C++ shim `csrc/aoti.cpp`.
//!
//! A package holds a shared library compiled for one device (CPU or CUDA), one dtype, one torch
//! and, on the CPU, the instruction set of the machine that compiled it. Before loading it,
//! [`Aoti::load`] reads the package's metadata and refuses, naming what to do:
//! - another device than the run's (`AOTI_DEVICE_KEY`, written by Inductor);
//! - another platform or machine (`AOTI_PLATFORM`, `AOTI_MACHINE`), or, for a CPU package, CPU
//!   features this machine lacks (`AOTI_CPU_ISA`: Inductor compiles with `-march=native`, so a
//!   package is meant for the machine it was made on);
//! - what `scripts/export_aoti.py` stores under keys starting `bert_latency.`: another torch
//!   release than the linked libtorch's (`torch_version`) and another dtype than the run's
//!   (`dtype`). The batch and sequence bounds it was exported with (`min_batch`, `max_batch`,
//!   `min_seq`, `max_seq`) are checked by [`External::check_shape`](super::External), and
//!   `num_parameters` is reported.
//!
//! A package from elsewhere (no `bert_latency.` keys) loads without bounds and reports 0
//! parameters; its dtype is taken from its weights (the floating-point dtype most of its
//! constants have).

use std::collections::BTreeMap;
use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::dtype::Dtype;
use crate::error::{Error, Result};

/// The prefix of the metadata keys `scripts/export_aoti.py` writes.
pub const METADATA_PREFIX: &str = "bert_latency.";

/// The shape bounds a package was exported with (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    min_batch: i64,
    max_batch: i64,
    min_seq: i64,
    max_seq: i64,
}

/// A loaded AOTInductor package.
pub struct Aoti {
    #[cfg_attr(not(aoti_shim), allow(dead_code))]
    loader: shim::Loader,
    bounds: Option<Bounds>,
    num_parameters: u64,
    vocab: Option<i64>,
}

impl Aoti {
    /// Loads `path` for `device` (the CPU or a CUDA device), computing in `kind`.
    ///
    /// # Errors
    /// [`Error::CheckpointFile`] naming the file, what is wrong and what to do: missing, not an
    /// AOTInductor package, made for another device, machine, torch or dtype, or a library that
    /// libtorch cannot load.
    pub fn load(path: &Path, device: Device, kind: Kind) -> Result<Self> {
        let file_error = |message: String| Error::CheckpointFile {
            path: path.to_owned(),
            message,
        };
        if !path.is_file() {
            return Err(file_error(
                "not found (an aoti entry needs the .pt2 package that scripts/export_aoti.py \
                 writes)"
                    .to_owned(),
            ));
        }
        if !is_zip(path) {
            return Err(file_error(format!(
                "not an AOTInductor package (a .pt2 zip archive from \
                 torch._inductor.aoti_compile_and_package; make one with \
                 scripts/export_aoti.py){}",
                if path.extension().is_some_and(|e| e == "pt2") {
                    ""
                } else {
                    " (and its name does not end in .pt2)"
                }
            )));
        }
        let index = match device {
            Device::Cpu => -1,
            Device::Cuda(n) => i32::try_from(n)
                .map_err(|_| file_error(format!("CUDA device {n} does not exist")))?,
            other => {
                return Err(file_error(format!(
                    "AOTInductor packages run on cpu or cuda, not {other:?}"
                )));
            }
        };
        // One package at a time per process: libtorch unpacks a package into temporary files
        // while it reads its metadata and loads it, and two threads doing so at once (the test
        // suite's) were seen to read a metadata file without its keys.
        static UNPACKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _unpacking = UNPACKING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let metadata = shim::package_metadata(path).map_err(|cause| {
            file_error(format!(
                "not an AOTInductor package: {cause} (a .pt2 from \
                 torch._inductor.aoti_compile_and_package, e.g. scripts/export_aoti.py; the .pt2 \
                 of torch.export.save holds no compiled model)"
            ))
        })?;
        check_target(&metadata, device).map_err(file_error)?;
        let ours = Ours::read(&metadata).map_err(file_error)?;
        if let Some(dtype) = ours.dtype {
            check_dtype(dtype, kind, "the package was exported").map_err(file_error)?;
        }
        let loader = shim::Loader::load(path, index).map_err(|cause| {
            file_error(format!(
                "libtorch could not load the package: {cause} (re-export it on this machine \
                 with scripts/export_aoti.py and the torch `cargo xtask bootstrap` installs)"
            ))
        })?;
        if ours.dtype.is_none() {
            if let Some(dtype) = loader.constants_dtype().map_err(file_error)? {
                check_dtype(dtype, kind, "the package's weights are").map_err(file_error)?;
            }
        }
        Ok(Self {
            loader,
            bounds: ours.bounds,
            num_parameters: ours.num_parameters.unwrap_or(0),
            vocab: ours.vocab,
        })
    }
}

impl super::External for Aoti {
    /// The parameter count `scripts/export_aoti.py` stored (0 for a package without it).
    fn num_parameters(&self) -> u64 {
        self.num_parameters
    }

    /// The vocabulary `scripts/export_aoti.py` stored.
    fn vocab(&self) -> Option<i64> {
        self.vocab
    }

    /// Refuses a batch or a sequence length outside the bounds the package was exported with: the
    /// compiled code is only valid within them.
    fn check_shape(&self, batch: i64, seq: i64) -> Result<()> {
        let Some(b) = self.bounds else {
            return Ok(());
        };
        if batch < b.min_batch || batch > b.max_batch {
            return Err(Error::Inputs(format!(
                "batch size {batch} is outside the AOTInductor package's exported batch bounds \
                 {}..={} (re-export it with scripts/export_aoti.py --max-batch {})",
                b.min_batch,
                b.max_batch,
                batch.max(b.max_batch)
            )));
        }
        if seq < b.min_seq || seq > b.max_seq {
            return Err(Error::Inputs(format!(
                "sequence length {seq} is outside the AOTInductor package's exported sequence \
                 bounds {}..={} ({})",
                b.min_seq,
                b.max_seq,
                if seq < b.min_seq {
                    "torch.export cannot keep a dimension of 1 dynamic".to_owned()
                } else {
                    format!("re-export it with scripts/export_aoti.py --max-seq {seq}")
                }
            )));
        }
        Ok(())
    }

    /// Runs the package (without gradients) and returns its first output.
    ///
    /// # Errors
    /// [`Error::Inputs`] with libtorch's message when the package fails (e.g. inputs on another
    /// device).
    fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        // The compiled code assumes the strides it was traced with (contiguous).
        // Token ids are checked against the package's vocabulary once per batch, before any
        // timing, by `Model::check_inputs` (the factory takes the vocabulary from the package):
        // on the CPU an id beyond it would abort the process inside the compiled kernel.
        let ids = input_ids.contiguous();
        let mask = attention_mask.contiguous();
        tch::no_grad(|| self.loader.run(&ids, &mask)).map_err(|cause| {
            // The package's own code prints the cause (e.g. `index out of bounds` for a token id
            // outside its vocabulary) on stderr; the runner reports only that the call failed.
            let vocab = self.vocab.map_or_else(String::new, |v| {
                format!(
                    "; token ids must be below the package's vocabulary {v} (model_config: \
                     {{vocab_size: {v}}})"
                )
            });
            Error::Inputs(format!(
                "the AOTInductor package's forward failed (its cause, if any, is printed on \
                 stderr above{vocab}): {cause}"
            ))
        })
    }
}

/// Whether the file starts as a zip archive does (`PK\x03\x04`), as every `.pt2` does.
fn is_zip(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"PK\x03\x04"
}

/// The name of a kind in flags (`fp32`, `fp16`, `bf16`), else its debug form.
fn kind_name(kind: Kind) -> String {
    Dtype::ALL
        .into_iter()
        .find(|d| d.kind() == kind)
        .map_or_else(|| format!("{kind:?}"), |d| d.as_str().to_owned())
}

fn check_dtype(package: Dtype, kind: Kind, what: &str) -> std::result::Result<(), String> {
    if package.kind() == kind {
        return Ok(());
    }
    Err(format!(
        "{what} {package}, but the run asks for {}: a package computes in the dtype it was \
         compiled for; run it with --dtype {package}, or re-export it with \
         scripts/export_aoti.py --dtype {}",
        kind_name(kind),
        kind_name(kind)
    ))
}

/// Checks the device, platform, machine and (CPU) instruction set Inductor recorded.
fn check_target(
    metadata: &BTreeMap<String, String>,
    device: Device,
) -> std::result::Result<(), String> {
    let get = |key: &str| metadata.get(key).map(String::as_str).unwrap_or("");
    let package_device = get("AOTI_DEVICE_KEY");
    let wanted = match device {
        Device::Cuda(_) => "cuda",
        _ => "cpu",
    };
    if package_device != wanted {
        let (export_flag, run_flag) = match package_device {
            "cpu" => ("--device cuda", "--device cpu"),
            "cuda" => ("--device cpu", "--device cuda"),
            _ => ("--device cpu or --device cuda", "its device"),
        };
        let shown = if package_device.is_empty() {
            "no device (AOTI_DEVICE_KEY missing)"
        } else {
            package_device
        };
        return Err(format!(
            "the package is compiled for {shown}, but the run is on {wanted}: run it with \
             {run_flag}, or re-export it with scripts/export_aoti.py {export_flag}"
        ));
    }
    let platform = get("AOTI_PLATFORM");
    if !platform.is_empty() && platform != std::env::consts::OS {
        return Err(format!(
            "the package is compiled for {platform}, this is {}: re-export it on this machine",
            std::env::consts::OS
        ));
    }
    let machine = get("AOTI_MACHINE");
    let arch = std::env::consts::ARCH;
    let same_machine = machine.is_empty()
        || machine == arch
        || (machine == "arm64" && arch == "aarch64")
        || (machine == "AMD64" && arch == "x86_64");
    if !same_machine {
        return Err(format!(
            "the package is compiled for {machine} CPUs, this machine is {arch}: re-export it on \
             this machine"
        ));
    }
    if package_device == "cpu" {
        let missing = missing_cpu_features(get("AOTI_CPU_ISA"));
        if !missing.is_empty() {
            return Err(format!(
                "the package is compiled for CPUs with {} and this CPU lacks {} (running it would \
                 stop on an illegal instruction): re-export it on this machine",
                get("AOTI_CPU_ISA"),
                missing.join(", ")
            ));
        }
    }
    Ok(())
}

/// The `/proc/cpuinfo` flags that Inductor's instruction set `isa` (e.g. `AVX512 AVX512_VNNI`)
/// compiles for and this CPU lacks. Empty where the flags cannot be read (not Linux) or for sets
/// this check does not know.
fn missing_cpu_features(isa: &str) -> Vec<&'static str> {
    let Ok(cpuinfo) = std::fs::read_to_string("/proc/cpuinfo") else {
        return Vec::new();
    };
    let Some(flags) = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, flags)| flags.split_whitespace().collect::<Vec<_>>())
    else {
        return Vec::new();
    };
    let mut missing = Vec::new();
    for token in isa.split_whitespace() {
        // The compiler flags of torch/_inductor/cpu_vec_isa.py, as cpuinfo names them.
        let needs: &[&'static str] = match token.to_ascii_uppercase().as_str() {
            "AVX2" => &["avx2", "fma", "f16c"],
            "AVX512" => &["avx512f", "avx512dq", "avx512vl", "avx512bw", "fma"],
            "AVX512_VNNI" => &["avx512_vnni"],
            "AMX_TILE" => &["amx_tile", "amx_bf16", "amx_int8"],
            _ => &[],
        };
        for flag in needs {
            if !flags.contains(flag) && !missing.contains(flag) {
                missing.push(*flag);
            }
        }
    }
    missing
}

/// What `scripts/export_aoti.py` stored under [`METADATA_PREFIX`].
#[derive(Debug, Default)]
struct Ours {
    dtype: Option<Dtype>,
    bounds: Option<Bounds>,
    num_parameters: Option<u64>,
    vocab: Option<i64>,
}

/// The inputs model-zoo passes, in order, as `scripts/export_aoti.py` names them.
const INPUT_NAMES: &str = "input_ids,attention_mask";

impl Ours {
    /// Reads and checks the keys; a package without them gives all `None`.
    fn read(metadata: &BTreeMap<String, String>) -> std::result::Result<Self, String> {
        let get = |key: &str| metadata.get(&format!("{METADATA_PREFIX}{key}"));
        let number = |key: &str| -> std::result::Result<Option<i64>, String> {
            get(key)
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        format!("metadata {METADATA_PREFIX}{key} = '{v}' is not a whole number")
                    })
                })
                .transpose()
        };
        if let Some(version) = get("torch_version") {
            let linked = env!("BERT_LATENCY_LIBTORCH_VERSION");
            let release = |v: &str| v.split('+').next().unwrap_or(v).trim().to_owned();
            if release(version) != release(linked) {
                return Err(format!(
                    "the package was compiled by torch {version}, but this build links libtorch \
                     {linked}: re-export it with scripts/export_aoti.py and the torch `cargo \
                     xtask bootstrap` installs"
                ));
            }
        }
        if let Some(names) = get("input_names") {
            if names.replace(' ', "") != INPUT_NAMES {
                return Err(format!(
                    "the package takes inputs ({names}), but model-zoo passes ({INPUT_NAMES}): \
                     export a model whose forward takes input_ids and attention_mask, as \
                     scripts/export_aoti.py does"
                ));
            }
        }
        let dtype = get("dtype")
            .map(|v| {
                v.parse::<Dtype>().map_err(|_| {
                    format!("metadata {METADATA_PREFIX}dtype = '{v}' is not fp32, fp16 or bf16")
                })
            })
            .transpose()?;
        let bounds = match (
            number("min_batch")?,
            number("max_batch")?,
            number("min_seq")?,
            number("max_seq")?,
        ) {
            (None, None, None, None) => None,
            (min_batch, Some(max_batch), min_seq, Some(max_seq)) => {
                let b = Bounds {
                    min_batch: min_batch.unwrap_or(1),
                    max_batch,
                    min_seq: min_seq.unwrap_or(1),
                    max_seq,
                };
                if b.min_batch > b.max_batch || b.min_seq > b.max_seq {
                    return Err(format!(
                        "metadata bounds batch {}..={} and sequence {}..={} are empty",
                        b.min_batch, b.max_batch, b.min_seq, b.max_seq
                    ));
                }
                Some(b)
            }
            _ => {
                return Err(format!(
                    "metadata has some of {METADATA_PREFIX}{{min,max}}_{{batch,seq}} but not both \
                     maxima"
                ));
            }
        };
        let num_parameters = number("num_parameters")?
            .map(|n| {
                u64::try_from(n).map_err(|_| {
                    format!("metadata {METADATA_PREFIX}num_parameters = {n} is negative")
                })
            })
            .transpose()?;
        Ok(Self {
            dtype,
            bounds,
            num_parameters,
            vocab: number("vocab_size")?,
        })
    }
}

/// The calls into `csrc/aoti.cpp`: each returns the shim's message (first line, without
/// libtorch's backtrace) on failure.
#[cfg(aoti_shim)]
mod shim {
    use std::collections::BTreeMap;
    use std::ffi::{CStr, CString, c_char, c_void};
    use std::path::Path;
    use std::ptr::NonNull;

    use tch::Tensor;

    use crate::dtype::Dtype;

    type Visitor = extern "C" fn(*mut c_void, *const c_char, usize, *const c_char, usize);

    unsafe extern "C" {
        fn bert_latency_aoti_package_metadata(
            path: *const c_char,
            visit: Visitor,
            context: *mut c_void,
            error: *mut c_char,
            error_len: usize,
        ) -> i32;
        fn bert_latency_aoti_load(
            path: *const c_char,
            device_index: i32,
            loader: *mut *mut c_void,
            error: *mut c_char,
            error_len: usize,
        ) -> i32;
        fn bert_latency_aoti_constants_dtype(
            loader: *mut c_void,
            dtype: *mut i32,
            error: *mut c_char,
            error_len: usize,
        ) -> i32;
        fn bert_latency_aoti_run(
            loader: *mut c_void,
            input_ids: *const torch_sys::C_tensor,
            attention_mask: *const torch_sys::C_tensor,
            output: *mut *mut torch_sys::C_tensor,
            error: *mut c_char,
            error_len: usize,
        ) -> i32;
        fn bert_latency_aoti_free(loader: *mut c_void);
    }

    /// Runs one shim call with an error buffer.
    fn call(f: impl FnOnce(*mut c_char, usize) -> i32) -> Result<(), String> {
        let mut buffer = vec![0 as c_char; 4096];
        if f(buffer.as_mut_ptr(), buffer.len()) == 0 {
            return Ok(());
        }
        // SAFETY: on failure the shim wrote a NUL-terminated message into the buffer (which
        // starts zeroed and whose last byte it never overwrites with anything but NUL).
        let message = unsafe { CStr::from_ptr(buffer.as_ptr()) }.to_string_lossy();
        Err(message
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("libtorch failed")
            .to_owned())
    }

    fn c_path(path: &Path) -> Result<CString, String> {
        CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| "the path contains a NUL byte".to_owned())
    }

    /// Adds one metadata entry to the `BTreeMap<String, String>` behind `context`.
    extern "C" fn collect(
        context: *mut c_void,
        key: *const c_char,
        key_len: usize,
        value: *const c_char,
        value_len: usize,
    ) {
        // SAFETY: `context` is the `&mut BTreeMap` passed to the shim by `package_metadata`,
        // alive for the whole call; the shim passes key and value as pointer and length of live
        // std::string data for the duration of this callback.
        let (map, key, value) = unsafe {
            (
                &mut *context.cast::<BTreeMap<String, String>>(),
                std::slice::from_raw_parts(key.cast::<u8>(), key_len),
                std::slice::from_raw_parts(value.cast::<u8>(), value_len),
            )
        };
        map.insert(
            String::from_utf8_lossy(key).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        );
    }

    /// The package's metadata, read without loading its library.
    pub fn package_metadata(path: &Path) -> Result<BTreeMap<String, String>, String> {
        let path = c_path(path)?;
        let mut map = BTreeMap::new();
        call(|error, len| {
            // SAFETY: `path` is NUL-terminated, `map` outlives the call, `collect` matches the
            // visitor's signature, the shim catches every C++ exception.
            unsafe {
                bert_latency_aoti_package_metadata(
                    path.as_ptr(),
                    collect,
                    (&raw mut map).cast(),
                    error,
                    len,
                )
            }
        })?;
        Ok(map)
    }

    /// An `AOTIModelPackageLoader`, freed (with its temporary folder) on drop.
    pub struct Loader(NonNull<c_void>);

    impl Loader {
        /// Loads the package for the CPU (`device_index` -1) or a CUDA device.
        pub fn load(path: &Path, device_index: i32) -> Result<Self, String> {
            let path = c_path(path)?;
            let mut loader: *mut c_void = std::ptr::null_mut();
            call(|error, len| {
                // SAFETY: `path` is NUL-terminated and `loader` valid for writing; the shim
                // catches every C++ exception.
                unsafe {
                    bert_latency_aoti_load(path.as_ptr(), device_index, &raw mut loader, error, len)
                }
            })?;
            NonNull::new(loader)
                .map(Self)
                .ok_or_else(|| "the loader is null".to_owned())
        }

        /// The floating-point dtype most constants have, if any is one this crate runs.
        pub fn constants_dtype(&self) -> Result<Option<Dtype>, String> {
            let mut code = -1;
            call(|error, len| {
                // SAFETY: the loader is live; `code` is valid for writing.
                unsafe {
                    bert_latency_aoti_constants_dtype(self.0.as_ptr(), &raw mut code, error, len)
                }
            })?;
            // c10::ScalarType: Half 5, Float 6, BFloat16 15.
            Ok(match code {
                5 => Some(Dtype::Fp16),
                6 => Some(Dtype::Fp32),
                15 => Some(Dtype::Bf16),
                _ => None,
            })
        }

        /// Runs the package; the output is a new tensor owned by the caller.
        pub fn run(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor, String> {
            let mut output: *mut torch_sys::C_tensor = std::ptr::null_mut();
            call(|error, len| {
                // SAFETY: the loader is live; the inputs are tch tensors (`at::Tensor*`)
                // borrowed for the call; `output` is valid for writing.
                unsafe {
                    bert_latency_aoti_run(
                        self.0.as_ptr(),
                        input_ids.as_ptr(),
                        attention_mask.as_ptr(),
                        &raw mut output,
                        error,
                        len,
                    )
                }
            })?;
            if output.is_null() {
                return Err("the package returned no tensor".to_owned());
            }
            // SAFETY: on success the shim set `output` to a tensor it allocated with `new
            // at::Tensor`, which nothing else references: the returned tch Tensor owns it and
            // frees it with `delete` (tch's at_free) when dropped.
            Ok(unsafe { Tensor::from_ptr(output) })
        }
    }

    impl Drop for Loader {
        fn drop(&mut self) {
            // SAFETY: the pointer came from bert_latency_aoti_load and is freed once, here.
            unsafe { bert_latency_aoti_free(self.0.as_ptr()) }
        }
    }
}

/// Without the shim (libtorch's AOTInductor header was missing at build time) every load fails.
#[cfg(not(aoti_shim))]
mod shim {
    use std::collections::BTreeMap;
    use std::path::Path;

    use tch::Tensor;

    use crate::dtype::Dtype;

    const UNSUPPORTED: &str = "this build of model-zoo cannot load AOTInductor packages (the \
                               libtorch it was built against has no \
                               torch/csrc/inductor/aoti_package/model_package_loader.h)";

    pub fn package_metadata(_path: &Path) -> Result<BTreeMap<String, String>, String> {
        Err(UNSUPPORTED.to_owned())
    }

    pub struct Loader;

    impl Loader {
        pub fn load(_path: &Path, _device_index: i32) -> Result<Self, String> {
            Err(UNSUPPORTED.to_owned())
        }

        pub fn constants_dtype(&self) -> Result<Option<Dtype>, String> {
            Err(UNSUPPORTED.to_owned())
        }

        pub fn run(&self, _input_ids: &Tensor, _attention_mask: &Tensor) -> Result<Tensor, String> {
            Err(UNSUPPORTED.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_the_exporters_keys() {
        let linked = env!("BERT_LATENCY_LIBTORCH_VERSION");
        let m = metadata(&[
            ("bert_latency.min_batch", "1"),
            ("bert_latency.max_batch", "8"),
            ("bert_latency.min_seq", "2"),
            ("bert_latency.max_seq", "64"),
            ("bert_latency.dtype", "bf16"),
            ("bert_latency.num_parameters", "24482"),
            ("bert_latency.vocab_size", "128"),
            ("bert_latency.input_names", "input_ids, attention_mask"),
            ("bert_latency.torch_version", linked),
        ]);
        let ours = Ours::read(&m).unwrap();
        assert_eq!(ours.dtype, Some(Dtype::Bf16));
        assert_eq!((ours.num_parameters, ours.vocab), (Some(24482), Some(128)));
        assert_eq!(
            ours.bounds,
            Some(Bounds {
                min_batch: 1,
                max_batch: 8,
                min_seq: 2,
                max_seq: 64
            })
        );
        let none = Ours::read(&metadata(&[("AOTI_DEVICE_KEY", "cpu")])).unwrap();
        assert_eq!(
            (none.dtype, none.bounds, none.num_parameters),
            (None, None, None)
        );
    }

    #[test]
    fn refuses_bad_or_foreign_metadata() {
        for (pairs, expected) in [
            (
                &[("bert_latency.torch_version", "2.9.1+cpu")][..],
                "compiled by torch 2.9.1+cpu",
            ),
            (&[("bert_latency.dtype", "fp64")][..], "dtype = 'fp64'"),
            (
                &[
                    ("bert_latency.max_batch", "8"),
                    ("bert_latency.max_seq", "x"),
                ][..],
                "max_seq = 'x'",
            ),
            (&[("bert_latency.max_batch", "8")][..], "both maxima"),
            (
                &[(
                    "bert_latency.input_names",
                    "input_ids,attention_mask,token_type_ids",
                )][..],
                "takes inputs (input_ids,attention_mask,token_type_ids)",
            ),
            (
                &[
                    ("bert_latency.min_batch", "9"),
                    ("bert_latency.max_batch", "8"),
                    ("bert_latency.max_seq", "8"),
                ][..],
                "empty",
            ),
        ] {
            let err = Ours::read(&metadata(pairs)).unwrap_err();
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn refuses_another_device_or_machine() {
        let cpu = metadata(&[("AOTI_DEVICE_KEY", "cpu")]);
        assert!(check_target(&cpu, Device::Cpu).is_ok());
        let err = check_target(&cpu, Device::Cuda(0)).unwrap_err();
        assert!(
            err.contains("compiled for cpu") && err.contains("--device cuda"),
            "{err}"
        );
        let cuda = metadata(&[("AOTI_DEVICE_KEY", "cuda")]);
        let err = check_target(&cuda, Device::Cpu).unwrap_err();
        assert!(
            err.contains("compiled for cuda") && err.contains("--device cpu"),
            "{err}"
        );
        let other = metadata(&[("AOTI_DEVICE_KEY", "cpu"), ("AOTI_MACHINE", "riscv64")]);
        let err = check_target(&other, Device::Cpu).unwrap_err();
        assert!(err.contains("riscv64"), "{err}");
    }

    #[test]
    fn names_cpu_features_only_when_missing() {
        assert!(missing_cpu_features("").is_empty());
        assert!(missing_cpu_features("NEON").is_empty());
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        if cpuinfo.contains(" avx2") && cpuinfo.contains(" f16c") && cpuinfo.contains(" fma") {
            assert!(missing_cpu_features("AVX2").is_empty());
        }
        if cpuinfo.lines().any(|l| l.starts_with("flags")) && !cpuinfo.contains(" amx_tile") {
            assert_eq!(missing_cpu_features("AMX_TILE")[0], "amx_tile");
        }
    }

    #[test]
    fn dtype_mismatch_names_both_flags() {
        let err = check_dtype(Dtype::Fp32, Kind::BFloat16, "the package was exported").unwrap_err();
        assert!(
            err.contains("--dtype fp32") && err.contains("--dtype bf16"),
            "{err}"
        );
        assert!(check_dtype(Dtype::Bf16, Kind::BFloat16, "x").is_ok());
    }
}
