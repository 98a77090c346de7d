//! Subsets of a dataset: N examples from chosen classes, picked either balanced at random
//! (deterministic from a seed) or as the first N of the split restricted to those classes
//! (Cohen et al.'s convention); preprocessed into an `[N, d]` matrix; and their targets.
//!
//! Notation: N examples, k chosen classes, d = C·H·W. `labels` are positions 0..k in the
//! chosen class list; `classes` maps them back to the dataset's class ids.
//!
//! Balanced sampling gives each class ⌊N/k⌋ examples and one more to each of the first
//! N mod k classes in the order listed. Within a class, the examples are the first ones of a
//! seeded random permutation of that class, so a larger N with the same seed extends the
//! smaller subset's choice. The subset's rows are in the split's order.
//!
//! # Limitations
//!
//! - The random permutation comes from `rand`'s ChaCha8 and `shuffle`; a future `rand`
//!   release that changes `shuffle` would change which examples a seed picks.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::standardize::preprocess_into;
use crate::{DataError, Dataset, DatasetName, Split, Standardize};

/// How the N examples are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Selection {
    /// ⌊N/k⌋ per class (the remainder to the first classes listed), at random from `seed`.
    Balanced { seed: u64 },
    /// The first N examples of the split whose class is among those chosen.
    FirstN,
}

/// What a subset's regression targets look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Targets {
    /// `[N, k]`: 1 at the example's class, 0 elsewhere.
    OneHot,
    /// `[N]`: the class position 0..k as a number.
    ClassIndex,
    /// `[N]`: +1 for the first class listed, −1 for the second (needs k = 2).
    PlusMinusOne,
}

impl Targets {
    /// `onehot`, `index` or `pm1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Targets::OneHot => "onehot",
            Targets::ClassIndex => "index",
            Targets::PlusMinusOne => "pm1",
        }
    }
}

impl std::fmt::Display for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Targets {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "onehot" | "one-hot" => Ok(Targets::OneHot),
            "index" | "class-index" => Ok(Targets::ClassIndex),
            "pm1" | "plus-minus-one" | "+-1" => Ok(Targets::PlusMinusOne),
            _ => Err(DataError::UnknownChoice {
                what: "targets",
                value: s.to_string(),
                choices: "onehot, index, pm1",
            }),
        }
    }
}

/// What subset to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsetSpec {
    pub split: Split,
    /// Class names or indices, in the order that defines `labels`; `None` = all classes.
    pub classes: Option<Vec<String>>,
    pub n: usize,
    pub selection: Selection,
    pub standardize: Standardize,
}

/// N preprocessed examples and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Subset {
    pub n: usize,
    pub d: usize,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// `[n, d]` row-major, each row an image in CHW order.
    pub x: Vec<f64>,
    /// `[n]`, position of the example's class in `classes`, 0..k.
    pub labels: Vec<usize>,
    /// `[k]`, the dataset's class ids, in the order asked for.
    pub classes: Vec<usize>,
    /// `[k]`, their names.
    pub class_names: Vec<String>,
    /// `[n]`, index of each row in its split.
    pub source_indices: Vec<usize>,
    pub dataset: DatasetName,
    pub split: Split,
    pub selection: Selection,
    pub standardize: Standardize,
}

impl Subset {
    /// k, the number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// Row `i` of `x`, `[d]`. Panics when `i >= n`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The targets, row-major: `[n, k]` for one-hot, `[n]` otherwise.
    pub fn targets(&self, kind: Targets) -> Result<Vec<f64>, DataError> {
        let k = self.num_classes();
        match kind {
            Targets::OneHot => {
                let mut targets = vec![0.0; self.n * k];
                for (row, &label) in self.labels.iter().enumerate() {
                    targets[row * k + label] = 1.0;
                }
                Ok(targets)
            }
            Targets::ClassIndex => Ok(self.labels.iter().map(|&label| label as f64).collect()),
            Targets::PlusMinusOne => {
                if k != 2 {
                    return Err(DataError::TargetsNeedTwoClasses { classes: k });
                }
                Ok(self
                    .labels
                    .iter()
                    .map(|&label| if label == 0 { 1.0 } else { -1.0 })
                    .collect())
            }
        }
    }
}

/// Takes the subset `spec` describes from `ds` and preprocesses it with the statistics of the
/// whole training split (also when `spec.split` is the test split).
pub fn subset(ds: &Dataset, spec: &SubsetSpec) -> Result<Subset, DataError> {
    let classes = resolve_classes(ds, spec.classes.as_deref())?;
    if spec.n == 0 {
        return Err(DataError::ZeroSamples);
    }
    let set = ds.split(spec.split);
    let source_indices = match spec.selection {
        Selection::Balanced { seed } => pick_balanced(ds, spec, &classes, seed)?,
        Selection::FirstN => pick_first(ds, spec, &classes)?,
    };

    let d = set.image_len();
    let plane = set.height * set.width;
    let statistics = ds.train_statistics();
    let mut x = vec![0.0; source_indices.len() * d]; // [n, d]
    for (row, &index) in x.chunks_exact_mut(d.max(1)).zip(&source_indices) {
        preprocess_into(set.image(index), spec.standardize, statistics, plane, row);
    }
    let labels = source_indices
        .iter()
        .map(|&index| position_of(&classes, set.labels[index]))
        .collect();

    Ok(Subset {
        n: source_indices.len(),
        d,
        shape: [set.channels, set.height, set.width],
        x,
        labels,
        class_names: classes.iter().map(|&c| ds.class_names[c].clone()).collect(),
        classes,
        source_indices,
        dataset: ds.name,
        split: spec.split,
        selection: spec.selection,
        standardize: spec.standardize,
    })
}

/// Dataset class ids for a list of names or indices (`None` = all, in id order).
pub(crate) fn resolve_classes(
    ds: &Dataset,
    asked: Option<&[String]>,
) -> Result<Vec<usize>, DataError> {
    let Some(asked) = asked else {
        return Ok((0..ds.class_names.len()).collect());
    };
    let asked: Vec<&str> = asked
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if asked.is_empty() {
        return Err(DataError::EmptyClassList);
    }
    let mut ids = Vec::with_capacity(asked.len());
    for name in asked {
        let id = class_id(ds, name)?;
        if ids.contains(&id) {
            return Err(DataError::DuplicateClass {
                name: name.to_string(),
            });
        }
        ids.push(id);
    }
    Ok(ids)
}

fn class_id(ds: &Dataset, name: &str) -> Result<usize, DataError> {
    let by_name = ds
        .class_names
        .iter()
        .position(|known| known.eq_ignore_ascii_case(name));
    let by_index = name
        .parse::<usize>()
        .ok()
        .filter(|&index| index < ds.class_names.len());
    by_name.or(by_index).ok_or_else(|| DataError::UnknownClass {
        dataset: ds.name.to_string(),
        name: name.to_string(),
        last: ds.class_names.len() - 1,
        valid: ds.class_names.join(", "),
    })
}

fn position_of(classes: &[usize], label: u8) -> usize {
    classes
        .iter()
        .position(|&c| c == usize::from(label))
        .expect("picked examples belong to the chosen classes")
}

/// Balanced random choice; returns split indices in ascending order.
fn pick_balanced(
    ds: &Dataset,
    spec: &SubsetSpec,
    classes: &[usize],
    seed: u64,
) -> Result<Vec<usize>, DataError> {
    let set = ds.split(spec.split);
    let k = classes.len();
    let mut picked = Vec::with_capacity(spec.n);
    for (position, &class) in classes.iter().enumerate() {
        let quota = spec.n / k + usize::from(position < spec.n % k);
        let mut members: Vec<usize> = (0..set.len())
            .filter(|&i| usize::from(set.labels[i]) == class)
            .collect();
        if quota > members.len() {
            return Err(DataError::NotEnoughExamples {
                requested: quota,
                available: members.len(),
                what: format!(
                    "of class `{}` ({} split, N = {} over {} classes)",
                    ds.class_names[class], spec.split, spec.n, k
                ),
            });
        }
        // One ChaCha stream per class id: a class's choice does not depend on the others.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(class as u64);
        members.shuffle(&mut rng);
        picked.extend_from_slice(&members[..quota]);
    }
    picked.sort_unstable();
    Ok(picked)
}

/// The first N examples of the split among the chosen classes.
fn pick_first(ds: &Dataset, spec: &SubsetSpec, classes: &[usize]) -> Result<Vec<usize>, DataError> {
    let set = ds.split(spec.split);
    let members = (0..set.len()).filter(|&i| classes.contains(&usize::from(set.labels[i])));
    let picked: Vec<usize> = members.clone().take(spec.n).collect();
    if picked.len() < spec.n {
        return Err(DataError::NotEnoughExamples {
            requested: spec.n,
            available: members.count(),
            what: format!(
                "from the {} split of {} restricted to the chosen classes",
                spec.split, ds.name
            ),
        });
    }
    Ok(picked)
}

#[cfg(test)]
mod tests;
