//! Why a GPU's clocks are held below their maximum (NVML "clocks event/throttle reasons").

use serde::{Deserialize, Serialize};

/// The bit mask NVML returns from `nvmlDeviceGetCurrentClocksThrottleReasons`; the bit values are
/// NVML's own, so a raw mask from any NVML version can be stored and compared.
///
/// Not every reason means the measurement is disturbed: see [`ThrottleReasons::LIMITING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThrottleReasons(pub u64);

impl ThrottleReasons {
    /// No reason: clocks are as high as they can be.
    pub const NONE: Self = Self(0);
    /// Nothing is running on the GPU.
    pub const GPU_IDLE: Self = Self(0x1);
    /// Clocks are held by the applications-clocks setting (`nvidia-smi -ac`, or locked clocks).
    pub const APPLICATIONS_CLOCKS_SETTING: Self = Self(0x2);
    /// The software power cap is reducing clocks (power draw at the power limit).
    pub const SW_POWER_CAP: Self = Self(0x4);
    /// Hardware slowdown (temperature, power brake or over-current), clocks halved or worse.
    pub const HW_SLOWDOWN: Self = Self(0x8);
    /// Another GPU in this GPU's sync-boost group holds its clocks down.
    pub const SYNC_BOOST: Self = Self(0x10);
    /// Software thermal slowdown: GPU or memory above its operating temperature.
    pub const SW_THERMAL_SLOWDOWN: Self = Self(0x20);
    /// Hardware thermal slowdown, clocks halved or worse.
    pub const HW_THERMAL_SLOWDOWN: Self = Self(0x40);
    /// Hardware power-brake slowdown (external power brake, e.g. the power supply).
    pub const HW_POWER_BRAKE_SLOWDOWN: Self = Self(0x80);
    /// Clocks are held by the display clock setting.
    pub const DISPLAY_CLOCK_SETTING: Self = Self(0x100);

    /// The reasons that make a run invalid for comparison: power and thermal capping, hardware
    /// slowdowns and sync boost. Idle, the applications-clocks setting (a deliberate clock choice)
    /// and the display clock setting are recorded but do not count, nor do bits this crate does
    /// not know.
    pub const LIMITING: Self = Self(
        Self::SW_POWER_CAP.0
            | Self::HW_SLOWDOWN.0
            | Self::SYNC_BOOST.0
            | Self::SW_THERMAL_SLOWDOWN.0
            | Self::HW_THERMAL_SLOWDOWN.0
            | Self::HW_POWER_BRAKE_SLOWDOWN.0,
    );

    const NAMED: [(Self, &'static str); 9] = [
        (Self::GPU_IDLE, "gpu_idle"),
        (
            Self::APPLICATIONS_CLOCKS_SETTING,
            "applications_clocks_setting",
        ),
        (Self::SW_POWER_CAP, "sw_power_cap"),
        (Self::HW_SLOWDOWN, "hw_slowdown"),
        (Self::SYNC_BOOST, "sync_boost"),
        (Self::SW_THERMAL_SLOWDOWN, "sw_thermal_slowdown"),
        (Self::HW_THERMAL_SLOWDOWN, "hw_thermal_slowdown"),
        (Self::HW_POWER_BRAKE_SLOWDOWN, "hw_power_brake_slowdown"),
        (Self::DISPLAY_CLOCK_SETTING, "display_clock_setting"),
    ];

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any [`LIMITING`](Self::LIMITING) reason is set.
    pub fn is_limiting(self) -> bool {
        self.0 & Self::LIMITING.0 != 0
    }

    /// Each set bit as a reason of its own, lowest bit first.
    pub fn each(self) -> impl Iterator<Item = Self> {
        (0..64)
            .map(|bit| 1u64 << bit)
            .filter(move |b| self.0 & b != 0)
            .map(Self)
    }

    /// The name of a single reason, e.g. "sw_power_cap"; a bit this crate does not know is named
    /// by its value, e.g. "unknown_0x200". For several bits, see [`names`](Self::names).
    pub fn name(self) -> String {
        Self::NAMED
            .iter()
            .find(|(reason, _)| *reason == self)
            .map_or_else(
                || format!("unknown_{:#x}", self.0),
                |(_, name)| (*name).to_owned(),
            )
    }

    /// The names of the set reasons, lowest bit first, e.g. `["sw_power_cap"]`.
    pub fn names(self) -> Vec<String> {
        self.each().map(Self::name).collect()
    }
}

impl std::ops::BitOr for ThrottleReasons {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_nvml_bits() {
        // Values from nvml.h: nvmlClocksThrottleReasonSwPowerCap = 0x4, HwThermalSlowdown = 0x40.
        assert_eq!(
            ThrottleReasons(0x44).names(),
            ["sw_power_cap", "hw_thermal_slowdown"]
        );
        assert_eq!(
            ThrottleReasons(0x201).names(),
            ["gpu_idle", "unknown_0x200"]
        );
        assert!(ThrottleReasons::NONE.names().is_empty());
    }

    #[test]
    fn only_performance_limits_count_as_limiting() {
        assert!(!ThrottleReasons::GPU_IDLE.is_limiting());
        assert!(
            !(ThrottleReasons::APPLICATIONS_CLOCKS_SETTING
                | ThrottleReasons::DISPLAY_CLOCK_SETTING)
                .is_limiting()
        );
        assert!(!ThrottleReasons(0x200).is_limiting());
        assert!((ThrottleReasons::GPU_IDLE | ThrottleReasons::SW_POWER_CAP).is_limiting());
        assert!(ThrottleReasons::HW_POWER_BRAKE_SLOWDOWN.is_limiting());
        assert!(ThrottleReasons::SYNC_BOOST.is_limiting());
    }
}
