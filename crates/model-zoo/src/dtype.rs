//! The float type a model runs in, as users and results files name it (`fp32`, `fp16`, `bf16`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::Kind;

use crate::error::{Error, Result};

/// The float type of a model's weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 32-bit IEEE float (`torch.float32`).
    Fp32,
    /// 16-bit IEEE float (`torch.float16`).
    Fp16,
    /// bfloat16 (`torch.bfloat16`).
    Bf16,
}

impl Dtype {
    /// Every dtype, in the order `--help` lists them.
    pub const ALL: [Self; 3] = [Self::Fp32, Self::Fp16, Self::Bf16];

    /// The name used in flags and results files: `fp32`, `fp16` or `bf16`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Fp16 => "fp16",
            Self::Bf16 => "bf16",
        }
    }

    /// Bytes per value.
    pub fn bytes(self) -> u64 {
        match self {
            Self::Fp32 => 4,
            Self::Fp16 | Self::Bf16 => 2,
        }
    }

    /// libtorch's kind for this dtype.
    pub fn kind(self) -> Kind {
        match self {
            Self::Fp32 => Kind::Float,
            Self::Fp16 => Kind::Half,
            Self::Bf16 => Kind::BFloat16,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dtype {
    type Err = Error;

    /// Parses `fp32`, `fp16` or `bf16` (any case).
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::Config(format!("unknown dtype '{s}': expected fp32, fp16 or bf16"))
            })
    }
}

/// Sets libtorch's CPU intra-op thread count (`torch.set_num_threads`).
pub fn set_threads(threads: u32) {
    tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
}

/// libtorch's CPU intra-op thread count now (`torch.get_num_threads`).
pub fn threads() -> u32 {
    u32::try_from(tch::get_num_threads()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_libtorch_kinds() {
        for dtype in Dtype::ALL {
            assert_eq!(dtype.as_str().parse::<Dtype>().unwrap(), dtype);
            assert_eq!(
                serde_json::to_string(&dtype).unwrap(),
                format!("\"{dtype}\"")
            );
            let t = tch::Tensor::zeros([3], (dtype.kind(), tch::Device::Cpu));
            assert_eq!(t.kind().elt_size_in_bytes() as u64, dtype.bytes());
        }
        assert!(
            "fp8"
                .parse::<Dtype>()
                .unwrap_err()
                .to_string()
                .contains("fp8")
        );
    }

    #[test]
    fn threads_can_be_set_and_read() {
        let before = threads();
        set_threads(1);
        assert_eq!(threads(), 1);
        set_threads(before.max(1));
    }
}
