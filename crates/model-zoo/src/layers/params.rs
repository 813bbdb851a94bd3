//! Where a model's parameters come from: seeded random initialisation, or a checkpoint whose
//! tensors are matched by name, with every mismatch recorded.

use std::collections::{BTreeMap, HashSet};

use tch::{Device, Kind, Tensor};

use crate::checkpoint::NameReport;
use crate::rng::SplitMix64;

/// How a freshly built parameter is initialised when no checkpoint provides it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Normal with mean 0 and this standard deviation (weights, embeddings).
    Normal(f64),
    /// All ones (norm weights).
    Ones,
    /// All zeros (biases).
    Zeros,
}

/// A supplier of named parameters. Models ask for each tensor by its checkpoint name and shape.
pub trait ParamSource {
    /// The parameter `name` with `shape`.
    fn take(&mut self, name: &str, shape: &[i64], init: Init) -> Tensor;

    /// Marks `name` as known but unused (e.g. a tied `decoder.weight` stored anyway), so that a
    /// checkpoint holding it does not warn.
    fn allow_unused(&mut self, name: &str);

    /// Declares that the architecture ties `name` to `partner` (the same tensor, e.g. the word
    /// embeddings and the MLM decoder weight): a checkpoint that stores only `partner` provides
    /// `name`. Call it before taking `name`.
    fn tie(&mut self, _name: &str, _partner: &str) {}

    /// Total number of parameter values handed out so far.
    fn count(&self) -> u64;
}

/// Random parameters, reproducible for a seed. The generator is this source's own (not
/// libtorch's global one), so models built at the same time on other threads cannot disturb it.
pub struct RandomParams {
    device: Device,
    kind: Kind,
    count: u64,
    rng: SplitMix64,
}

impl RandomParams {
    /// A source whose tensors live on `device` with float type `kind`, seeded with `seed`.
    pub fn new(seed: u64, device: Device, kind: Kind) -> Self {
        Self {
            device,
            kind,
            count: 0,
            rng: SplitMix64::new(seed),
        }
    }

    /// `n` standard normal values (Box-Muller on two uniforms of 53 random bits each).
    fn normals(&mut self, n: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let u1 = ((self.rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
            let u2 = self.rng.unit();
            let radius = (-2.0 * u1.ln()).sqrt();
            let angle = std::f64::consts::TAU * u2;
            out.push((radius * angle.cos()) as f32);
            out.push((radius * angle.sin()) as f32);
        }
        out.truncate(n);
        out
    }
}

impl ParamSource for RandomParams {
    fn take(&mut self, _name: &str, shape: &[i64], init: Init) -> Tensor {
        self.count += shape.iter().product::<i64>() as u64;
        let options = (Kind::Float, Device::Cpu);
        let t = match init {
            Init::Normal(std) => {
                let n = shape.iter().product::<i64>() as usize;
                Tensor::from_slice(&self.normals(n)).view(shape) * std
            }
            Init::Ones => Tensor::ones(shape, options),
            Init::Zeros => Tensor::zeros(shape, options),
        };
        t.to_kind(self.kind).to_device(self.device)
    }

    fn allow_unused(&mut self, _name: &str) {}

    fn count(&self) -> u64 {
        self.count
    }
}

/// Parameters read from a checkpoint. Each requested name is looked up under its aliases (see
/// [`aliases`]); what is missing or misshaped is recorded, not invented.
pub struct CheckpointParams {
    tensors: BTreeMap<String, Tensor>,
    /// Names the file dropped for sharing memory with a kept tensor: dropped → kept.
    shared: BTreeMap<String, String>,
    /// Tied pairs the architecture declared: name → partner.
    ties: BTreeMap<String, String>,
    used: HashSet<String>,
    allowed: HashSet<String>,
    report: NameReport,
    device: Device,
    kind: Kind,
    count: u64,
}

impl CheckpointParams {
    /// A source over `tensors` (name → tensor as stored), converting to `kind` on `device`.
    pub fn new(tensors: Vec<(String, Tensor)>, device: Device, kind: Kind) -> Self {
        Self {
            tensors: tensors.into_iter().collect(),
            shared: BTreeMap::new(),
            ties: BTreeMap::new(),
            used: HashSet::new(),
            allowed: HashSet::new(),
            report: NameReport::default(),
            device,
            kind,
            count: 0,
        }
    }

    /// Adds the names the file dropped because they shared memory with a kept tensor (`dropped →
    /// kept`, from the `__metadata__` that `safetensors.torch.save_model` writes; see
    /// [`Header::shared_names`](crate::checkpoint::Header::shared_names)).
    pub fn with_shared_names(mut self, shared: BTreeMap<String, String>) -> Self {
        self.shared = shared;
        self
    }

    /// The stored name that provides `name`: one of its [`aliases`]; else a name the file's
    /// metadata says it dropped in favour of a kept tensor; else the same for the architecture's
    /// tied partner.
    fn find(&self, name: &str) -> Option<String> {
        let direct = |name: &str| {
            let names = aliases(name);
            names
                .iter()
                .find(|alias| self.tensors.contains_key(*alias))
                .cloned()
                .or_else(|| {
                    names
                        .iter()
                        .find_map(|alias| self.shared.get(alias))
                        .filter(|kept| self.tensors.contains_key(*kept))
                        .cloned()
                })
        };
        direct(name).or_else(|| self.ties.get(name).and_then(|partner| direct(partner)))
    }

    /// What did not fit: missing and misshaped names (errors) and unexpected ones (warnings).
    pub fn finish(mut self) -> NameReport {
        for (name, tensor) in &self.tensors {
            if !self.used.contains(name) && !self.allowed.contains(name) {
                self.report.unexpected.push((name.clone(), tensor.size()));
            }
        }
        self.report
    }
}

/// The names under which a checkpoint may store the parameter `name`: the name itself; without
/// its backbone prefix (`model.`, `bert.`), as base models and sentence-transformers save; with
/// the `model.` of a Composer `HuggingFaceModel` wrapper's state dict in front; with
/// TF-era `gamma`/`beta` for LayerNorm `weight`/`bias` (bert-base-uncased); and
/// `cls.predictions.decoder.bias` for BERT's `cls.predictions.bias`.
pub fn aliases(name: &str) -> Vec<String> {
    let mut names = vec![name.to_owned()];
    for prefix in ["model.", "bert."] {
        if let Some(bare) = name.strip_prefix(prefix) {
            names.push(bare.to_owned());
        }
    }
    names.push(format!("model.{name}"));
    if name == "cls.predictions.bias" {
        names.push("cls.predictions.decoder.bias".to_owned());
    }
    let tf: Vec<String> = names
        .iter()
        .filter(|n| n.contains("LayerNorm.") || n.contains("layernorm."))
        .filter_map(|n| {
            n.strip_suffix(".weight")
                .map(|s| format!("{s}.gamma"))
                .or_else(|| n.strip_suffix(".bias").map(|s| format!("{s}.beta")))
        })
        .collect();
    names.extend(tf);
    names
}

impl ParamSource for CheckpointParams {
    fn take(&mut self, name: &str, shape: &[i64], _init: Init) -> Tensor {
        self.count += shape.iter().product::<i64>() as u64;
        match self.find(name) {
            Some(alias) => {
                self.used.insert(alias.clone());
                let tensor = &self.tensors[&alias];
                if tensor.size() != shape {
                    self.report
                        .misshaped
                        .push((name.to_owned(), shape.to_vec(), tensor.size()));
                    return Tensor::zeros(shape, (self.kind, self.device));
                }
                tensor.to_kind(self.kind).to_device(self.device)
            }
            None => {
                self.report.missing.push((name.to_owned(), shape.to_vec()));
                Tensor::zeros(shape, (self.kind, self.device))
            }
        }
    }

    fn allow_unused(&mut self, name: &str) {
        self.allowed.extend(aliases(name));
    }

    fn tie(&mut self, name: &str, partner: &str) {
        self.ties.insert(name.to_owned(), partner.to_owned());
    }

    fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_cover_prefixes_and_tf_names() {
        let a = aliases("bert.encoder.layer.0.attention.output.LayerNorm.weight");
        assert!(a.contains(&"encoder.layer.0.attention.output.LayerNorm.weight".to_owned()));
        assert!(a.contains(&"bert.encoder.layer.0.attention.output.LayerNorm.gamma".to_owned()));
        assert!(a.contains(&"encoder.layer.0.attention.output.LayerNorm.gamma".to_owned()));
        assert_eq!(
            aliases("model.layers.1.attn.Wo.weight")[1],
            "layers.1.attn.Wo.weight"
        );
        assert!(
            aliases("cls.predictions.bias").contains(&"cls.predictions.decoder.bias".to_owned())
        );
    }

    #[test]
    fn shared_names_and_ties_find_the_kept_tensor() {
        let t = |v: f32| Tensor::from_slice(&[v, v]);
        let tensors = vec![("kept".to_owned(), t(1.0)), ("decoder".to_owned(), t(2.0))];
        let mut source = CheckpointParams::new(tensors, Device::Cpu, Kind::Float)
            .with_shared_names([("dropped".to_owned(), "kept".to_owned())].into());
        source.tie("embedding", "decoder");
        let sum = |t: Tensor| t.sum(Kind::Float).double_value(&[]);
        assert_eq!(sum(source.take("dropped", &[2], Init::Zeros)), 2.0);
        assert_eq!(sum(source.take("embedding", &[2], Init::Zeros)), 4.0);
        let _ = source.take("other", &[2], Init::Zeros);
        let report = source.finish();
        assert_eq!(report.missing, vec![("other".to_owned(), vec![2])]);
        assert!(report.unexpected.is_empty(), "{report}");
    }

    #[test]
    fn checkpoint_reports_missing_misshaped_and_unexpected() {
        let tensors = vec![
            (
                "a.weight".to_owned(),
                Tensor::ones([2, 3], (Kind::Float, Device::Cpu)),
            ),
            (
                "b.weight".to_owned(),
                Tensor::ones([4], (Kind::Float, Device::Cpu)),
            ),
            (
                "extra".to_owned(),
                Tensor::ones([1], (Kind::Float, Device::Cpu)),
            ),
        ];
        let mut source = CheckpointParams::new(tensors, Device::Cpu, Kind::Float);
        let a = source.take("a.weight", &[2, 3], Init::Zeros);
        assert_eq!(a.sum(Kind::Float).double_value(&[]), 6.0);
        let _ = source.take("b.weight", &[5], Init::Zeros);
        let _ = source.take("c.weight", &[7], Init::Zeros);
        let report = source.finish();
        assert_eq!(report.missing, vec![("c.weight".to_owned(), vec![7])]);
        assert_eq!(
            report.misshaped,
            vec![("b.weight".to_owned(), vec![5], vec![4])]
        );
        assert_eq!(report.unexpected, vec![("extra".to_owned(), vec![1])]);
    }
}
