//! Values that could not be read, and why.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One reading from a device: the value, or why it could not be read.
pub type Reading<T> = std::result::Result<T, String>;

/// A value that is absent from a report, with the reason (e.g. "power: the requested operation
/// is not available on the target device").
///
/// Reports keep each `(what, reason)` pair once, however often it happened, so a CLI can print
/// every reason once; [`unique`] merges the lists of several reports the same way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Missing {
    /// The value, e.g. "power", "energy counter", "gpu 0 uuid", "cpu model".
    pub what: String,
    /// Why it is missing.
    pub reason: String,
}

impl Missing {
    /// A missing value and its reason.
    pub fn new(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

/// The distinct entries of several `Missing` lists, in first-seen order.
pub fn unique<'a>(lists: impl IntoIterator<Item = &'a [Missing]>) -> Vec<Missing> {
    let mut log = MissingLog::default();
    for list in lists {
        for missing in list {
            log.push(missing.clone());
        }
    }
    log.into_vec()
}

/// Collects `Missing` entries, keeping each `(what, reason)` pair once.
#[derive(Debug, Default, Clone)]
pub(crate) struct MissingLog(Vec<Missing>);

impl MissingLog {
    /// Adds an entry unless the same pair is already there.
    pub(crate) fn push(&mut self, missing: Missing) {
        if !self.0.contains(&missing) {
            self.0.push(missing);
        }
    }

    /// The value of `reading`, or `None` after noting why under `what`.
    pub(crate) fn take<T>(&mut self, what: &str, reading: Reading<T>) -> Option<T> {
        match reading {
            Ok(value) => Some(value),
            Err(reason) => {
                self.push(Missing::new(what, reason));
                None
            }
        }
    }

    pub(crate) fn into_vec(self) -> Vec<Missing> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keeps_each_pair_once_in_first_seen_order() {
        let mut log = MissingLog::default();
        assert_eq!(log.take("power", Ok::<u32, String>(5)), Some(5));
        assert_eq!(log.take::<u32>("power", Err("not supported".into())), None);
        assert_eq!(log.take::<u32>("clock", Err("no permission".into())), None);
        assert_eq!(log.take::<u32>("power", Err("not supported".into())), None);
        assert_eq!(log.take::<u32>("power", Err("gpu lost".into())), None);
        let reasons: Vec<String> = log.into_vec().iter().map(ToString::to_string).collect();
        assert_eq!(
            reasons,
            [
                "power: not supported",
                "clock: no permission",
                "power: gpu lost"
            ]
        );
    }

    #[test]
    fn unique_merges_lists() {
        let a = [Missing::new("x", "1"), Missing::new("y", "2")];
        let b = [Missing::new("y", "2"), Missing::new("z", "3")];
        let merged = unique([&a[..], &b[..]]);
        assert_eq!(merged, [a[0].clone(), a[1].clone(), b[1].clone()]);
    }
}
