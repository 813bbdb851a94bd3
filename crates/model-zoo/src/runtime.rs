//! Facts about the libtorch this build links: version, CUDA support, threads.

/// What the linked libtorch is and what it can use on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibtorchInfo {
    /// libtorch's version as its install states it, e.g. `2.11.0+cu130` (`unknown` if it does not).
    pub version: String,
    /// The folder the binary loads libtorch from (its rpath).
    pub lib_dir: String,
    /// Whether this libtorch was built with CUDA (it ships `libtorch_cuda.so`, linked explicitly).
    pub cuda_built: bool,
    /// How many CUDA devices libtorch sees now (0 without a GPU or driver).
    pub cuda_devices: usize,
    /// Whether cuDNN is usable.
    pub cudnn: bool,
    /// libtorch's intra-op thread count.
    pub threads: usize,
    /// Whether libtorch was built with MKL.
    pub mkl: bool,
    /// Whether libtorch was built with oneDNN (mkldnn).
    pub mkldnn: bool,
}

impl LibtorchInfo {
    /// Reads the facts from the linked libtorch.
    pub fn detect() -> Self {
        Self {
            version: env!("BERT_LATENCY_LIBTORCH_VERSION").to_owned(),
            lib_dir: env!("BERT_LATENCY_LIBTORCH_LIB").to_owned(),
            cuda_built: env!("BERT_LATENCY_LIBTORCH_CUDA") == "1",
            cuda_devices: usize::try_from(tch::Cuda::device_count()).unwrap_or(0),
            cudnn: tch::Cuda::cudnn_is_available(),
            threads: usize::try_from(tch::get_num_threads()).unwrap_or(0),
            mkl: tch::utils::has_mkl(),
            mkldnn: tch::utils::has_mkldnn(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_version_tch_expects() {
        let info = LibtorchInfo::detect();
        assert!(info.version.starts_with("2.11.0"), "{info:?}");
        assert!(info.threads >= 1, "{info:?}");
        assert!(
            std::path::Path::new(&info.lib_dir)
                .join("libtorch_cpu.so")
                .exists(),
            "{info:?}"
        );
    }
}
