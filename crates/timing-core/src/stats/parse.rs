//! Reading samples from text: one decimal number per line.

use super::samples::Samples;
use crate::error::{Error, Result};

/// Parses one sample per line (blank lines are skipped, surrounding spaces ignored) and validates
/// the set, naming the line of the first problem.
///
/// # Errors
/// [`Error::Parse`] for a line that is not a number, not finite, or negative; [`Error::Empty`]
/// when there is no sample.
pub fn parse_lines(text: &str) -> Result<Samples> {
    let mut values = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let bad = |problem| Error::Parse {
            line: index + 1,
            text: trimmed.to_owned(),
            problem,
        };
        let value: f64 = trimmed.parse().map_err(|_| bad("is not a number"))?;
        if !value.is_finite() {
            return Err(bad("is not a finite number"));
        }
        if value < 0.0 {
            return Err(bad("is negative, and a duration cannot be"));
        }
        values.push(value);
    }
    Samples::new(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_and_names_bad_lines() {
        let s = parse_lines("1.5\n\n  2\n3e0\n").unwrap();
        assert_eq!(s.sorted(), &[1.5, 2.0, 3.0]);
        let err = parse_lines("1\n2\nabc\n").unwrap_err();
        assert_eq!(err.to_string(), "line 3: 'abc' is not a number");
        assert_eq!(parse_lines("\n \n"), Err(Error::Empty));
        let err = parse_lines("1\n\nNaN\n").unwrap_err();
        assert_eq!(err.to_string(), "line 3: 'NaN' is not a finite number");
        let err = parse_lines("1\n-2\n").unwrap_err();
        assert!(matches!(err, Error::Parse { line: 2, .. }), "{err}");
    }
}
