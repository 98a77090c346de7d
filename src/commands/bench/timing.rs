//! Wall-clock samples of one benchmark and their summary (median, min, max), the one result
//! shape every benchmark of `sharplab bench` reports, in the text table and in JSON alike.
//!
//! # Limitations
//!
//! Times are wall-clock seconds from [`std::time::Instant`]; on a shared machine they drift
//! between runs, which is why `benches/compare.sh` compares ratios measured side by side.

use std::time::Instant;

use serde_json::{Map, Value, json};

/// Runs `work` once and returns its value with the seconds it took.
pub fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let value = work();
    (value, started.elapsed().as_secs_f64())
}

/// The median, least and largest of `samples` (NaN for none). The median of an even count is
/// the mean of the middle two.
pub fn spread(samples: &[f64]) -> (f64, f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    let median = if sorted.len().is_multiple_of(2) {
        0.5 * (sorted[middle - 1] + sorted[middle])
    } else {
        sorted[middle]
    };
    (median, sorted[0], sorted[sorted.len() - 1])
}

/// `{"median", "min", "max", "samples"}` of `samples`.
pub fn spread_json(samples: &[f64]) -> Value {
    let (median, min, max) = spread(samples);
    json!({ "median": median, "min": min, "max": max, "samples": samples })
}

/// One benchmark's result: its timed samples, the facts that go with them (FLOPs, HVP counts,
/// eigenvalues) and a short note for the text table.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// `group/what` (`fc-tanh/gd-step`) or a single word (`minimalist`, `matmul`).
    pub name: String,
    /// Seconds of each timed repeat.
    pub seconds: Vec<f64>,
    /// Further fields of the JSON object, beside `name` and `seconds`.
    pub facts: Map<String, Value>,
    /// One line for humans: rates, counts, values.
    pub note: String,
}

impl Measurement {
    /// A result with no facts yet.
    pub fn new(name: impl Into<String>, seconds: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            seconds,
            facts: Map::new(),
            note: String::new(),
        }
    }

    /// Adds one JSON field.
    pub fn fact(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.facts.insert(key.to_string(), value.into());
        self
    }

    /// Sets the note of the text table.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The median seconds.
    pub fn median(&self) -> f64 {
        spread(&self.seconds).0
    }

    /// The JSON object: `name`, `seconds` (median, min, max, samples), then the facts.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("name".into(), self.name.clone().into());
        object.insert("seconds".into(), spread_json(&self.seconds));
        object.extend(self.facts.clone());
        Value::Object(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_counts_uses_the_middle() {
        assert_eq!(spread(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(spread(&[4.0, 1.0, 3.0, 2.0]), (2.5, 1.0, 4.0));
        assert!(spread(&[]).0.is_nan());
    }
}
