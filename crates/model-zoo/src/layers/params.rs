//! Where a model's parameters come from: seeded random initialisation, or a checkpoint whose
//! tensors are matched by name, with every mismatch recorded.

use std::collections::{BTreeMap, HashSet};

use tch::{Device, Kind, Tensor};

use crate::checkpoint::{NameReport, Reader};
use crate::error::{Error, Result};
use crate::rng::{SplitMix64, fill_normal};

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
///
/// Each normal tensor takes the next value of the source's splitmix64 stream as its own seed and
/// is filled in place by [`fill_normal`](crate::rng::fill_normal) (ziggurat, chunks in parallel on
/// libtorch's intra-op thread count): one fp32 copy of the tensor is ever made on the CPU, then
/// converted to the source's float type and device.
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

    /// An fp32 CPU tensor of `shape` drawn from a normal with mean 0 and standard deviation `std`.
    fn normal(&mut self, shape: &[i64], std: f64) -> Tensor {
        let seed = self.rng.next_u64();
        let tensor = Tensor::empty(shape, (Kind::Float, Device::Cpu));
        let n = tensor.numel();
        if n > 0 {
            // SAFETY: `tensor` was just allocated as a contiguous fp32 CPU tensor of `n` values,
            // nothing else refers to its storage, and the slice is dropped before `tensor` is
            // returned.
            let values =
                unsafe { std::slice::from_raw_parts_mut(tensor.data_ptr().cast::<f32>(), n) };
            let threads = usize::try_from(tch::get_num_threads()).unwrap_or(1);
            fill_normal(seed, values, std, threads);
        }
        tensor
    }
}

impl ParamSource for RandomParams {
    fn take(&mut self, _name: &str, shape: &[i64], init: Init) -> Tensor {
        self.count += shape.iter().product::<i64>() as u64;
        let options = (Kind::Float, Device::Cpu);
        let t = match init {
            Init::Normal(std) => self.normal(shape, std),
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

/// Stand-ins without memory, for an architecture's shapes, parameter count and FLOPs: each
/// parameter is one zero of the source's float type on the CPU, expanded (stride 0) to the
/// parameter's shape. A model built from them has every shape right and no weights: never run it.
pub struct PlaceholderParams {
    kind: Kind,
    count: u64,
}

impl PlaceholderParams {
    /// A source of stand-ins of float type `kind`.
    pub fn new(kind: Kind) -> Self {
        Self { kind, count: 0 }
    }
}

/// One value of `kind` on the CPU, expanded to `shape` without allocating it.
pub(crate) fn placeholder(shape: &[i64], kind: Kind) -> Tensor {
    Tensor::zeros([], (kind, Device::Cpu)).expand(shape, false)
}

impl ParamSource for PlaceholderParams {
    fn take(&mut self, _name: &str, shape: &[i64], _init: Init) -> Tensor {
        self.count += shape.iter().product::<i64>() as u64;
        placeholder(shape, self.kind)
    }

    fn allow_unused(&mut self, _name: &str) {}

    fn count(&self) -> u64 {
        self.count
    }
}

/// Parameters read from a checkpoint. Each requested name is looked up under its aliases (see
/// [`aliases`]); what is missing or misshaped is recorded, not invented.
///
/// Over a file ([`CheckpointParams::from_reader`]) each tensor is read when the model asks for
/// it, straight into its own memory, then converted to the source's float type and device; shapes
/// and names come from the header. Loading therefore holds the weights handed out so far plus
/// the one tensor being converted: one copy of the weights, never the whole file beside them. A
/// stored tensor asked for twice would be read twice (no architecture asks twice; ties resolve to
/// one name).
pub struct CheckpointParams {
    store: Store,
    /// Each stored tensor's shape, by name.
    shapes: BTreeMap<String, Vec<i64>>,
    /// Names the file dropped for sharing memory with a kept tensor: dropped → kept.
    shared: BTreeMap<String, String>,
    /// Tied pairs the architecture declared: name → partner.
    ties: BTreeMap<String, String>,
    used: HashSet<String>,
    allowed: HashSet<String>,
    report: NameReport,
    /// The first tensor that could not be read; nothing more is read after it.
    error: Option<Error>,
    device: Device,
    kind: Kind,
    count: u64,
}

/// Where a [`CheckpointParams`] finds its tensors.
enum Store {
    /// Tensors already in memory (tests, the stand-ins of a blueprint).
    Memory(BTreeMap<String, Tensor>),
    /// A file, read tensor by tensor as the model asks.
    File(Reader),
}

impl CheckpointParams {
    /// A source over `tensors` (name → tensor as stored), converting to `kind` on `device`.
    pub fn new(tensors: Vec<(String, Tensor)>, device: Device, kind: Kind) -> Self {
        let tensors: BTreeMap<String, Tensor> = tensors.into_iter().collect();
        let shapes = tensors
            .iter()
            .map(|(name, tensor)| (name.clone(), tensor.size()))
            .collect();
        Self::with_store(Store::Memory(tensors), shapes, device, kind)
    }

    /// A source over the safetensors file `reader` has open, reading each tensor when it is
    /// taken and converting it to `kind` on `device`.
    pub fn from_reader(reader: Reader, device: Device, kind: Kind) -> Self {
        let shapes = reader.header().tensors.clone();
        Self::with_store(Store::File(reader), shapes, device, kind)
    }

    fn with_store(
        store: Store,
        shapes: BTreeMap<String, Vec<i64>>,
        device: Device,
        kind: Kind,
    ) -> Self {
        Self {
            store,
            shapes,
            shared: BTreeMap::new(),
            ties: BTreeMap::new(),
            used: HashSet::new(),
            allowed: HashSet::new(),
            report: NameReport::default(),
            error: None,
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
                .find(|alias| self.shapes.contains_key(*alias))
                .cloned()
                .or_else(|| {
                    names
                        .iter()
                        .find_map(|alias| self.shared.get(alias))
                        .filter(|kept| self.shapes.contains_key(*kept))
                        .cloned()
                })
        };
        direct(name).or_else(|| self.ties.get(name).and_then(|partner| direct(partner)))
    }

    /// The stored tensor `name` as stored: the one in memory, or read from the file now.
    fn load(&self, name: &str) -> Result<Tensor> {
        match &self.store {
            Store::Memory(tensors) => Ok(tensors[name].shallow_clone()),
            Store::File(reader) => reader.read(name),
        }
    }

    /// What did not fit: missing and misshaped names (errors) and unexpected ones (warnings).
    ///
    /// # Errors
    /// The first tensor that could not be read from the file ([`Error::CheckpointFile`]).
    pub fn finish(mut self) -> Result<NameReport> {
        if let Some(error) = self.error {
            return Err(error);
        }
        for (name, shape) in &self.shapes {
            if !self.used.contains(name) && !self.allowed.contains(name) {
                self.report.unexpected.push((name.clone(), shape.clone()));
            }
        }
        Ok(self.report)
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
                let stored = &self.shapes[&alias];
                if stored != shape {
                    self.report
                        .misshaped
                        .push((name.to_owned(), shape.to_vec(), stored.clone()));
                    return Tensor::zeros(shape, (self.kind, self.device));
                }
                if self.error.is_none() {
                    match self.load(&alias) {
                        Ok(tensor) => return tensor.to_kind(self.kind).to_device(self.device),
                        Err(error) => self.error = Some(error),
                    }
                }
                // The build fails in `finish`; this only lets the model finish constructing.
                placeholder(shape, self.kind)
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
        let report = source.finish().unwrap();
        assert_eq!(report.missing, vec![("other".to_owned(), vec![2])]);
        assert!(report.unexpected.is_empty(), "{report}");
    }

    #[test]
    fn a_tensor_the_file_cannot_give_fails_the_build_at_finish() {
        let path = crate::checkpoint::unsupported_dtype_file("params");
        let reader = Reader::open(&path).unwrap();
        let mut source = CheckpointParams::from_reader(reader, Device::Cpu, Kind::Float);
        assert_eq!(source.take("a", &[2], Init::Ones).size(), [2]);
        assert_eq!(source.take("b", &[2], Init::Ones).size(), [2]);
        let err = source.finish().unwrap_err().to_string();
        assert!(err.contains("tensor 'b' has dtype U16"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn random_normals_are_seeded_scaled_and_never_zero() {
        let take = |seed| {
            let mut source = RandomParams::new(seed, Device::Cpu, Kind::Float);
            let _ = source.take("first", &[3], Init::Normal(1.0));
            source.take("w", &[300, 200], Init::Normal(0.02))
        };
        let w = take(3);
        assert_eq!(w.size(), [300, 200]);
        assert!(w.equal(&take(3)) && !w.equal(&take(4)));
        let std = w.std(true).double_value(&[]);
        assert!((std - 0.02).abs() < 0.001, "std {std}");
        let smallest = w.abs().min().double_value(&[]);
        assert!(
            smallest > 0.0 && smallest >= f64::from(f32::MIN_POSITIVE),
            "{smallest}"
        );
    }

    #[test]
    fn placeholders_have_the_shapes_and_count_without_memory() {
        let mut source = PlaceholderParams::new(Kind::BFloat16);
        let w = source.take("w", &[50_000, 768], Init::Normal(0.02));
        let b = source.take("b", &[768], Init::Zeros);
        assert_eq!((w.size(), b.size()), (vec![50_000, 768], vec![768]));
        assert_eq!(w.kind(), Kind::BFloat16);
        assert_eq!(w.stride(), [0, 0], "no storage behind the shape");
        assert_eq!(source.count(), 50_000 * 768 + 768);
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
        let report = source.finish().unwrap();
        assert_eq!(report.missing, vec![("c.weight".to_owned(), vec![7])]);
        assert_eq!(
            report.misshaped,
            vec![("b.weight".to_owned(), vec![5], vec![4])]
        );
        assert_eq!(report.unexpected, vec![("extra".to_owned(), vec![1])]);
    }
}
