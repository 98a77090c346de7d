//! Typed access to a run's parameters, with errors that name the parameter (the runner adds
//! the experiment and the run).
//!
//! # Limitations
//!
//! Integers given where a float is expected are accepted; floats given where an integer is
//! expected are not (`n = 100.0` is an error).

use anyhow::{anyhow, bail};

use super::spec::RunSpec;

/// A run's parameters, read by name.
pub struct ParamReader<'a> {
    run: &'a RunSpec,
}

impl<'a> ParamReader<'a> {
    pub fn new(run: &'a RunSpec) -> Self {
        ParamReader { run }
    }

    fn missing(&self, key: &str) -> anyhow::Error {
        anyhow!("parameter `{key}` is missing; add it to [base] or [sweep]")
    }

    fn wrong(&self, key: &str, what: &str) -> anyhow::Error {
        anyhow!(
            "parameter `{key}` = {} must be {what}",
            self.run.params[key]
        )
    }

    pub fn has(&self, key: &str) -> bool {
        self.run.params.contains_key(key)
    }

    pub fn f64(&self, key: &str) -> anyhow::Result<f64> {
        self.opt_f64(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn opt_f64(&self, key: &str) -> anyhow::Result<Option<f64>> {
        match self.run.params.get(key) {
            None => Ok(None),
            Some(toml::Value::Float(v)) => Ok(Some(*v)),
            Some(toml::Value::Integer(v)) => Ok(Some(*v as f64)),
            Some(_) => Err(self.wrong(key, "a number")),
        }
    }

    pub fn usize(&self, key: &str) -> anyhow::Result<usize> {
        self.opt_usize(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn opt_usize(&self, key: &str) -> anyhow::Result<Option<usize>> {
        match self.run.params.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(v)) if *v >= 0 => Ok(Some(*v as usize)),
            Some(_) => Err(self.wrong(key, "a non-negative integer")),
        }
    }

    pub fn opt_string(&self, key: &str) -> anyhow::Result<Option<String>> {
        match self.run.params.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    pub fn bool(&self, key: &str, default: bool) -> anyhow::Result<bool> {
        match self.run.params.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(self.wrong(key, "true or false")),
        }
    }

    /// A step size: `lr` as given, or `lr_factor` · 2/`reference` (e.g. 2/Ŝ_D).
    pub fn step_size(&self, reference_sharpness: f64) -> anyhow::Result<f64> {
        match (self.opt_f64("lr")?, self.opt_f64("lr_factor")?) {
            (Some(lr), None) => Ok(lr),
            (None, Some(factor)) => Ok(factor * 2.0 / reference_sharpness),
            (Some(_), Some(_)) => bail!("give either `lr` or `lr_factor`, not both"),
            (None, None) => Err(self.missing("lr")),
        }
    }
}
