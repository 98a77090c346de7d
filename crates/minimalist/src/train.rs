//! The training loop: GD, SGD or gradient flow on the reduced problem, the exact sharpness every
//! step (warm-started secular equation), trajectory rows streamed to an observer, and a
//! [`Summary`] with the theory's predictions beside the measured values.
//!
//! Notation: η = `lr`, t = η·step, S the sharpness, Ŝ_D the predicted sharpness, C the layer
//! imbalance; the status rules are documented on [`Status`].
//!
//! # Limitations
//!
//! SGD batches are consecutive slices of a seeded permutation; when fewer than B samples are
//! left in an epoch they are skipped and a new permutation starts (no partial batches). Gradient
//! flow runs in f64 only and records (and checks the status) every `record_every`·η of time.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::config::{Method, MinimalConfig, Precision, Status, Summary, TrajectoryRow};
use crate::error::MinimalError;
use crate::flow::Rk45;
use crate::hessian::{Arrowhead, Tracked};
use crate::init::{Start, initial_params};
use crate::model::ReducedModel;
use crate::reduced::Reduced;
use crate::scalar::{Scalar, convert};
use crate::theory::{self, balanced_minimum_bounds, imbalance_minimum_bounds, layer_imbalance};

/// Trains the minimalist model on `reduced` as `config` says, calling `observer` with every
/// recorded row (step 0, every `record_every` steps, and the last), and returns the summary.
///
/// A diverging run is not an error: it stops, its status is `diverged`, and the rows up to
/// that point have been delivered. Errors: an invalid config (see [`MinimalConfig::validate`]).
pub fn train(
    reduced: &Reduced,
    config: &MinimalConfig,
    observer: impl FnMut(&TrajectoryRow),
) -> Result<Summary, MinimalError> {
    config.validate(reduced.n(), reduced.d())?;
    if config.method == Method::Flow && config.precision == Precision::F32 {
        return Err(MinimalError::config(
            "precision",
            "f32",
            "gradient flow runs in f64; drop --precision f32 or use GD",
        ));
    }
    let start = initial_params(reduced, config);
    match config.precision {
        Precision::F64 => Run::<f64>::new(reduced, config, &start).go(observer),
        Precision::F32 => Run::<f32>::new(reduced, config, &start).go(observer),
    }
}

/// The state of one run in precision T.
struct Run<'a, T> {
    reduced: &'a Reduced,
    config: &'a MinimalConfig,
    model: ReducedModel<T>,
    alpha: Vec<T>, // [r]
    v: Vec<T>,     // [D − 1]
    outside_sq: f64,
    initial_loss: f64,
    warm: Option<Tracked>,
    recent: VecDeque<f64>, // the last `eos_window` sharpness values
    diverged: bool,
    hessian: Arrowhead,
    alpha64: Vec<f64>,
    v64: Vec<f64>,
}

impl<'a, T: Scalar> Run<'a, T> {
    fn new(reduced: &'a Reduced, config: &'a MinimalConfig, start: &Start) -> Self {
        let model = ReducedModel::<T>::new(reduced);
        let alpha: Vec<T> = convert(&start.alpha);
        let v: Vec<T> = convert(&start.v);
        let initial_loss = model.loss(&alpha, &v).to_f64();
        Run {
            reduced,
            config,
            model,
            alpha,
            v,
            outside_sq: start.outside.iter().map(|x| x * x).sum(),
            initial_loss,
            warm: None,
            recent: VecDeque::with_capacity(config.eos_window + 1),
            diverged: false,
            hessian: Arrowhead::at(&[], &[], 1, &[], &[]),
            alpha64: Vec::new(),
            v64: Vec::new(),
        }
    }

    fn state64(&self) -> (Vec<f64>, Vec<f64>) {
        (
            self.alpha.iter().map(|a| a.to_f64()).collect(),
            self.v.iter().map(|x| x.to_f64()).collect(),
        )
    }

    fn loss(&self) -> f64 {
        self.model.loss(&self.alpha, &self.v).to_f64()
    }

    /// The exact sharpness at the current state, warm-started from the last one.
    fn sharpness(&mut self) -> f64 {
        // Reused buffers: this runs every step.
        self.alpha64.clear();
        self.alpha64.extend(self.alpha.iter().map(|a| a.to_f64()));
        self.v64.clear();
        self.v64.extend(self.v.iter().map(|x| x.to_f64()));
        let reduced = self.reduced;
        self.hessian.update(
            reduced.sigma(),
            reduced.target_coef(),
            reduced.n(),
            &self.alpha64,
            &self.v64,
        );
        let found = self.hessian.top_eigenvalue_tracked(self.warm);
        self.warm = Some(found);
        let value = found.value;
        if self.config.eos_window > 0 {
            if self.recent.len() == self.config.eos_window {
                self.recent.pop_front();
            }
            self.recent.push_back(value);
        }
        value
    }

    fn row(&self, step: usize, loss: f64, sharpness: Option<f64>) -> TrajectoryRow {
        let (alpha, v) = self.state64();
        let projected_sq: f64 = alpha.iter().map(|a| a * a).sum();
        let imbalance = layer_imbalance(projected_sq, &v);
        TrajectoryRow {
            step,
            time: self.config.lr * step as f64,
            loss,
            sharpness,
            two_over_lr: 2.0 / self.config.lr,
            imbalance: imbalance.c,
            u_norm: (projected_sq + self.outside_sq).sqrt(),
            projected_u_norm: projected_sq.sqrt(),
            v,
            gaps: imbalance.gaps,
        }
    }

    /// True when the run must stop: diverged, or converged with `stop_at_convergence`.
    fn should_stop(&mut self, loss: f64) -> bool {
        let limit = self.config.divergence_factor * self.initial_loss.max(1.0);
        if !loss.is_finite() || loss > limit {
            self.diverged = true;
            tracing::warn!(loss, limit, "the loss diverged; stopping");
            return true;
        }
        self.config.stop_at_convergence && self.converged(loss)
    }

    fn converged(&self, loss: f64) -> bool {
        loss - self.reduced.min_loss() <= self.config.loss_goal
    }

    fn go(mut self, mut observer: impl FnMut(&TrajectoryRow)) -> Result<Summary, MinimalError> {
        let loss = self.loss();
        let sharpness = self.sharpness();
        observer(&self.row(0, loss, Some(sharpness)));
        let stop = self.should_stop(loss);
        let steps_run = match (stop, self.config.method) {
            (true, _) => 0,
            (false, Method::Flow) => self.flow(&mut observer),
            (false, _) => self.descend(&mut observer),
        };
        Ok(self.summary(steps_run))
    }

    /// GD or SGD; returns the number of steps taken.
    fn descend(&mut self, observer: &mut impl FnMut(&TrajectoryRow)) -> usize {
        let config = self.config;
        let (r, n) = (self.model.rank(), self.reduced.n());
        let lr = T::from_f64(config.lr);
        let mut grad_alpha = vec![T::zero(); r];
        let mut grad_v = vec![T::zero(); self.v.len()];
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(1));
        let mut order: Vec<usize> = (0..n).collect();
        let mut cursor = n; // forces a shuffle before the first batch

        for step in 1..=config.steps {
            if config.method == Method::Sgd {
                if cursor + config.batch_size > n {
                    order.shuffle(&mut rng);
                    cursor = 0;
                }
                let batch = &order[cursor..cursor + config.batch_size];
                self.model.batch_gradient(
                    batch,
                    &self.alpha,
                    &self.v,
                    &mut grad_alpha,
                    &mut grad_v,
                );
                cursor += config.batch_size;
            } else {
                self.model
                    .gradient(&self.alpha, &self.v, &mut grad_alpha, &mut grad_v);
            }
            for (a, &g) in self.alpha.iter_mut().zip(&grad_alpha) {
                *a = *a - lr * g;
            }
            for (x, &g) in self.v.iter_mut().zip(&grad_v) {
                *x = *x - lr * g;
            }

            let loss = self.loss();
            let stop = self.should_stop(loss);
            let record = step % config.record_every == 0 || step == config.steps || stop;
            let due = config.sharpness_every > 0 && step % config.sharpness_every == 0;
            let sharpness = if (due || record) && !self.diverged {
                Some(self.sharpness())
            } else {
                None
            };
            if record {
                observer(&self.row(step, loss, sharpness));
            }
            if stop {
                return step;
            }
        }
        config.steps
    }

    /// Gradient flow to time η·steps, in chunks of `record_every`·η; returns the steps covered.
    fn flow(&mut self, observer: &mut impl FnMut(&TrajectoryRow)) -> usize {
        let config = self.config;
        let model = ReducedModel::<f64>::new(self.reduced);
        let r = model.rank();
        let (mut state, v) = self.state64();
        state.extend(v); // [r + D − 1]
        let mut solver = Rk45::new(config.flow_rtol, config.flow_atol, config.lr);
        let mut steps_run = 0;
        while steps_run < config.steps {
            let chunk = config.record_every.min(config.steps - steps_run);
            let outcome = solver.advance(&mut state, config.lr * chunk as f64, |s, out| {
                let (alpha, v) = s.split_at(r);
                let (out_alpha, out_v) = out.split_at_mut(r);
                model.gradient(alpha, v, out_alpha, out_v);
                out.iter_mut().for_each(|x| *x = -*x);
            });
            steps_run += chunk;
            self.alpha = convert(&state[..r]);
            self.v = convert(&state[r..]);
            let loss = self.loss();
            let mut stop = self.should_stop(loss);
            if let Err(reason) = outcome {
                tracing::warn!(?reason, "gradient flow stopped");
                self.diverged = true;
                stop = true;
            }
            let sharpness = if self.diverged {
                None
            } else {
                Some(self.sharpness())
            };
            observer(&self.row(steps_run, loss, sharpness));
            if stop {
                break;
            }
        }
        tracing::debug!(
            accepted = solver.accepted,
            rejected = solver.rejected,
            "gradient flow done"
        );
        steps_run
    }

    fn status(&self, loss: f64) -> Status {
        let at_edge = |s: &f64| (s * self.config.lr / 2.0 - 1.0).abs() <= self.config.eos_band;
        if self.diverged {
            Status::Diverged
        } else if self.converged(loss) {
            Status::Converged
        } else if self.config.method != Method::Flow
            && self.config.eos_window > 0
            && self.recent.len() == self.config.eos_window
            && self.recent.iter().all(at_edge)
        {
            Status::EdgeOfStability
        } else {
            Status::NotConverged
        }
    }

    fn summary(mut self, steps_run: usize) -> Summary {
        let loss = self.loss();
        let status = self.status(loss);
        let final_sharpness = if self.diverged {
            f64::NAN
        } else {
            self.sharpness()
        };
        let last = self.row(steps_run, loss, Some(final_sharpness));
        let difficulty = theory::difficulty(self.reduced);
        let depth = self.config.depth;
        let mut summary = Summary {
            config: self.config.clone(),
            n: self.reduced.n(),
            d: self.reduced.d(),
            rank: self.reduced.rank(),
            steps_run,
            final_time: last.time,
            status,
            final_loss: loss,
            min_loss: self.reduced.min_loss(),
            final_sharpness,
            two_over_lr: last.two_over_lr,
            difficulty: difficulty.q,
            sigma1_sq_over_n: difficulty.sigma1_sq_over_n,
            predicted_sharpness: theory::predicted_sharpness(
                difficulty.sigma1_sq_over_n,
                difficulty.q,
                depth,
            ),
            lower_bound: f64::NAN,
            upper_bound: f64::NAN,
            bounds_kind: String::new(),
            final_imbalance: last.imbalance,
            final_gaps: last.gaps.clone(),
            final_v: last.v.clone(),
            final_u_norm: last.u_norm,
        };
        match (depth, last.imbalance) {
            (2, Some(c)) => {
                summary.set_bounds(imbalance_minimum_bounds(&difficulty, c), "imbalance_d2")
            }
            (1, _) => summary.set_bounds(balanced_minimum_bounds(&difficulty, 1), "linear_exact"),
            _ => summary.set_bounds(balanced_minimum_bounds(&difficulty, depth), "balanced"),
        }
        tracing::info!(
            ?status,
            steps_run,
            loss,
            final_sharpness,
            "minimalist run done"
        );
        summary
    }
}
