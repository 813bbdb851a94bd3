//! CPU facts parsed from `/proc/cpuinfo`.

/// The first "model name" value, trimmed.
pub(crate) fn model_name(cpuinfo: &str) -> Option<String> {
    field_values(cpuinfo, "model name")
        .next()
        .map(str::to_owned)
        .filter(|s| !s.is_empty())
}

/// The number of "processor" entries: logical CPUs.
pub(crate) fn processor_count(cpuinfo: &str) -> usize {
    field_values(cpuinfo, "processor").count()
}

fn field_values<'a>(text: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> {
    text.lines().filter_map(move |line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu vme\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n\n";

    #[test]
    fn parses_model_and_processors() {
        assert_eq!(
            model_name(CPUINFO).as_deref(),
            Some("Intel(R) Xeon(R) Platinum 8480+")
        );
        assert_eq!(processor_count(CPUINFO), 2);
    }

    #[test]
    fn arm_cpuinfo_has_no_model_name() {
        let arm = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n";
        assert_eq!(model_name(arm), None);
        assert_eq!(processor_count(arm), 1);
    }
}
