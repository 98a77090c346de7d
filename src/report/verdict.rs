//! Verdicts: how an experiment's verdict rules turn its runs' numbers into "holds", "does not
//! hold" or "inconclusive", each with the numbers that decided it.
//!
//! A value named in a rule is looked up first among a run's metrics, then among its
//! parameters. Diverged runs are left out of every rule and counted in the explanation. An
//! experiment holds when every rule holds, does not hold when any rule does not, and is
//! inconclusive otherwise (too few runs, or a statistic between the thresholds).
//!
//! # Limitations
//!
//! Trends use Spearman's rank correlation, which cannot tell a steep rise from a shallow one;
//! the `tracks` and `correlation` rules are there for the size of an effect.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::experiment::spec::{Direction, VerdictRule};
use crate::experiment::store::{RunRecord, RunStatus};

/// The outcome of a rule or a whole experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Holds,
    DoesNotHold,
    Inconclusive,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Holds => "holds",
            Outcome::DoesNotHold => "does not hold",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// For a run and a window fraction: the mean sharpness over the last `window` of training,
/// and 2/η (`None` without a trajectory).
pub type SharpnessTail<'a> = dyn Fn(&RunRecord, f64) -> Option<(f64, f64)> + 'a;

/// One rule's outcome, the statistic it computed, and why, in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleVerdict {
    pub outcome: Outcome,
    pub statistic: Option<f64>,
    pub why: String,
}

/// Combines rule verdicts: any "does not hold" wins, then any "inconclusive".
pub fn combine(verdicts: &[RuleVerdict]) -> Outcome {
    if verdicts.is_empty() {
        return Outcome::Inconclusive;
    }
    if verdicts.iter().any(|v| v.outcome == Outcome::DoesNotHold) {
        Outcome::DoesNotHold
    } else if verdicts.iter().any(|v| v.outcome == Outcome::Inconclusive) {
        Outcome::Inconclusive
    } else {
        Outcome::Holds
    }
}

/// A numeric value of a run by name: a metric, or a numeric parameter.
pub fn value_of(record: &RunRecord, name: &str) -> Option<f64> {
    if let Some(v) = record.metrics.get(name) {
        return Some(*v);
    }
    match record.params.get(name)? {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Applies one rule to the runs of an experiment (with their trajectories for the edge of
/// stability rule: `sharpness_tail(record, window)` returns the mean sharpness over the last
/// `window` fraction and 2/η).
pub fn evaluate(
    rule: &VerdictRule,
    records: &[RunRecord],
    sharpness_tail: &SharpnessTail<'_>,
) -> RuleVerdict {
    let usable: Vec<&RunRecord> = records
        .iter()
        .filter(|r| r.status != RunStatus::Diverged)
        .collect();
    let diverged = records.len() - usable.len();
    let mut verdict = match rule.group() {
        Some(group) => by_group(rule, &usable, group, sharpness_tail),
        None => evaluate_usable(rule, &usable, sharpness_tail),
    };
    if diverged > 0 {
        verdict
            .why
            .push_str(&format!(" ({diverged} diverged run(s) left out)"));
    }
    verdict
}

/// The rule applied in each group of runs sharing a value of `group`: the claim must hold in
/// every group, so the worst group's statistic is reported.
fn by_group(
    rule: &VerdictRule,
    usable: &[&RunRecord],
    group: &str,
    sharpness_tail: &SharpnessTail<'_>,
) -> RuleVerdict {
    let mut labels: Vec<String> = Vec::new();
    let mut members: Vec<Vec<&RunRecord>> = Vec::new();
    for r in usable {
        let label = match r.params.get(group) {
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::from("(none)"),
        };
        match labels.iter().position(|l| *l == label) {
            Some(i) => members[i].push(r),
            None => {
                labels.push(label);
                members.push(vec![r]);
            }
        }
    }
    if labels.is_empty() {
        return inconclusive(format!("no runs to split by {group}"));
    }
    let verdicts: Vec<RuleVerdict> = members
        .iter()
        .map(|m| evaluate_usable(rule, m, sharpness_tail))
        .collect();
    let outcome = combine(&verdicts);
    let worst = verdicts
        .iter()
        .filter_map(|v| v.statistic)
        .reduce(|a, b| if rule.is_worse(a, b) { a } else { b });
    // A group without a statistic is inconclusive; then the worst statistic alone no longer
    // decides the outcome unless it is itself a failure.
    let all_have_statistics = verdicts.iter().all(|v| v.statistic.is_some());
    let statistic = worst.filter(|_| all_have_statistics || outcome == Outcome::DoesNotHold);
    let why = labels
        .iter()
        .zip(&verdicts)
        .map(|(label, v)| format!("{label}: {}", v.why))
        .collect::<Vec<_>>()
        .join("; ");
    RuleVerdict {
        outcome,
        statistic,
        why,
    }
}

fn evaluate_usable(
    rule: &VerdictRule,
    usable: &[&RunRecord],
    sharpness_tail: &SharpnessTail<'_>,
) -> RuleVerdict {
    match rule {
        VerdictRule::Trend {
            x,
            y,
            direction,
            min_rho,
            only_where_above_one,
            ..
        } => {
            let kept: Vec<&RunRecord> = match only_where_above_one {
                Some(gate) => usable
                    .iter()
                    .copied()
                    .filter(|r| value_of(r, gate).is_some_and(|g| g > 1.0))
                    .collect(),
                None => usable.to_vec(),
            };
            trend(&kept, x, y, *direction, *min_rho)
        }
        VerdictRule::Tracks {
            y,
            prediction,
            max_rel_error,
        } => tracks(usable, y, prediction, *max_rel_error),
        VerdictRule::Correlation { x, y, min_r } => correlation(usable, x, y, *min_r),
        VerdictRule::Superlinear { x, y, .. } => superlinear(usable, x, y),
        VerdictRule::EdgeOfStability { window, tolerance } => {
            edge_of_stability(usable, *window, *tolerance, sharpness_tail)
        }
    }
}

fn inconclusive(why: String) -> RuleVerdict {
    RuleVerdict {
        outcome: Outcome::Inconclusive,
        statistic: None,
        why,
    }
}

/// Pairs (x, y) of the runs that have both, with runs sharing x averaged, sorted by x.
fn averaged_pairs(records: &[&RunRecord], x: &str, y: &str) -> Vec<(f64, f64)> {
    let mut groups: BTreeMap<u64, (f64, f64, usize)> = BTreeMap::new();
    for r in records {
        if let (Some(xv), Some(yv)) = (value_of(r, x), value_of(r, y))
            && xv.is_finite()
            && yv.is_finite()
        {
            let entry = groups.entry(xv.to_bits()).or_insert((xv, 0.0, 0));
            entry.1 += yv;
            entry.2 += 1;
        }
    }
    let mut pairs: Vec<(f64, f64)> = groups
        .into_values()
        .map(|(xv, sum, count)| (xv, sum / count as f64))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    pairs
}

fn trend(
    records: &[&RunRecord],
    x: &str,
    y: &str,
    direction: Direction,
    min_rho: f64,
) -> RuleVerdict {
    let pairs = averaged_pairs(records, x, y);
    if pairs.len() < 3 {
        return inconclusive(format!(
            "{} distinct {x} value(s) with {y}; a trend needs at least 3",
            pairs.len()
        ));
    }
    let xs: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let rho = spearman(&xs, &ys);
    let signed = match direction {
        Direction::Increasing => rho,
        Direction::Decreasing => -rho,
    };
    let word = match direction {
        Direction::Increasing => "rises",
        Direction::Decreasing => "falls",
    };
    let outcome = if signed >= min_rho {
        Outcome::Holds
    } else if signed <= 0.0 {
        Outcome::DoesNotHold
    } else {
        Outcome::Inconclusive
    };
    RuleVerdict {
        outcome,
        statistic: Some(rho),
        why: format!(
            "{y} {word} with {x}? Spearman ρ = {rho:.2} over {} points (needs {}{min_rho:.2})",
            pairs.len(),
            if direction == Direction::Increasing {
                "≥ "
            } else {
                "≤ −"
            }
        ),
    }
}

fn tracks(records: &[&RunRecord], y: &str, prediction: &str, max_rel_error: f64) -> RuleVerdict {
    let errors: Vec<f64> = records
        .iter()
        .filter_map(|r| Some((value_of(r, y)?, value_of(r, prediction)?)))
        .map(|(measured, predicted)| (measured / predicted - 1.0).abs())
        .collect();
    if errors.is_empty() {
        return inconclusive(format!("no run has both {y} and {prediction}"));
    }
    let worst = errors.iter().copied().fold(0.0, f64::max);
    let outcome = if worst <= max_rel_error {
        Outcome::Holds
    } else {
        Outcome::DoesNotHold
    };
    RuleVerdict {
        outcome,
        statistic: Some(worst),
        why: format!(
            "largest |{y}/{prediction} − 1| = {:.1}% over {} runs (allowed {:.0}%)",
            100.0 * worst,
            errors.len(),
            100.0 * max_rel_error
        ),
    }
}

fn correlation(records: &[&RunRecord], x: &str, y: &str, min_r: f64) -> RuleVerdict {
    let (xs, ys): (Vec<f64>, Vec<f64>) = records
        .iter()
        .filter_map(|r| Some((value_of(r, x)?, value_of(r, y)?)))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .unzip();
    if xs.len() < 3 {
        return inconclusive(format!("{} runs with {x} and {y}; needs 3", xs.len()));
    }
    let r = pearson(&xs, &ys);
    let outcome = if r >= min_r {
        Outcome::Holds
    } else if r <= 0.0 {
        Outcome::DoesNotHold
    } else {
        Outcome::Inconclusive
    };
    RuleVerdict {
        outcome,
        statistic: Some(r),
        why: format!(
            "Pearson r({x}, {y}) = {r:.3} over {} runs (needs ≥ {min_r:.2})",
            xs.len()
        ),
    }
}

fn superlinear(records: &[&RunRecord], x: &str, y: &str) -> RuleVerdict {
    let pairs = averaged_pairs(records, x, y);
    let (Some(first), Some(last)) = (pairs.first(), pairs.last()) else {
        return inconclusive(format!("no run has {x} and {y}"));
    };
    if pairs.len() < 2 || first.1 <= 0.0 {
        return inconclusive(format!("needs two {x} values with positive {y}"));
    }
    let growth = last.1 / first.1;
    let ratio = last.0 / first.0;
    let outcome = if growth > ratio {
        Outcome::Holds
    } else {
        Outcome::DoesNotHold
    };
    RuleVerdict {
        outcome,
        statistic: Some(growth / ratio),
        why: format!(
            "{y} grows ×{} while {x} grows ×{} (from {} to {})",
            super::format_number(growth),
            super::format_number(ratio),
            first.0,
            last.0
        ),
    }
}

fn edge_of_stability(
    records: &[&RunRecord],
    window: f64,
    tolerance: f64,
    sharpness_tail: &SharpnessTail<'_>,
) -> RuleVerdict {
    let gaps: Vec<(String, f64)> = records
        .iter()
        .filter_map(|r| {
            let (tail, limit) = sharpness_tail(r, window)?;
            Some((r.id.clone(), (tail / limit - 1.0).abs()))
        })
        .collect();
    if gaps.is_empty() {
        return inconclusive("no run has a sharpness trajectory".to_string());
    }
    let worst = gaps.iter().map(|g| g.1).fold(0.0, f64::max);
    let outcome = if worst <= tolerance {
        Outcome::Holds
    } else {
        Outcome::DoesNotHold
    };
    RuleVerdict {
        outcome,
        statistic: Some(worst),
        why: format!(
            "mean sharpness over the last {:.0}% of training is within {:.1}% of 2/η in the \
             worst of {} runs (allowed {:.0}%)",
            100.0 * window,
            100.0 * worst,
            gaps.len(),
            100.0 * tolerance
        ),
    }
}

/// Pearson's correlation coefficient; 0 when either side is constant.
pub fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mean_x) * (y - mean_y);
        sxx += (x - mean_x) * (x - mean_x);
        syy += (y - mean_y) * (y - mean_y);
    }
    if sxx == 0.0 || syy == 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's rank correlation (Pearson's r of the ranks, ties given their mean rank).
pub fn spearman(xs: &[f64], ys: &[f64]) -> f64 {
    pearson(&ranks(xs), &ranks(ys))
}

fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        let mean_rank = (start + end) as f64 / 2.0;
        for &i in &order[start..=end] {
            ranks[i] = mean_rank;
        }
        start = end + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::spec::Params;

    fn record(id: &str, n: i64, sharpness: f64, status: RunStatus) -> RunRecord {
        let mut params = Params::new();
        params.insert("n".into(), toml::Value::Integer(n));
        let mut metrics = BTreeMap::new();
        metrics.insert("final_sharpness".into(), sharpness);
        metrics.insert("predicted_sharpness".into(), 2.0 * n as f64);
        RunRecord {
            id: id.into(),
            params,
            status,
            metrics,
            has_trajectory: false,
        }
    }

    fn no_tail(_: &RunRecord, _: f64) -> Option<(f64, f64)> {
        None
    }

    #[test]
    fn spearman_of_a_reversed_order_is_minus_one() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[9.0, 7.0, 5.0, 1.0]) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn pearson_of_an_exact_line_is_one() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[5.0, 7.0, 9.0]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![1.5, 0.0, 1.5]);
    }

    #[test]
    fn increasing_trend_holds_and_its_reverse_does_not() {
        let rising: Vec<_> = [(100, 1.0), (200, 2.0), (300, 4.0)]
            .iter()
            .map(|&(n, s)| record(&format!("n{n}"), n, s, RunStatus::Converged))
            .collect();
        let rule = |direction| VerdictRule::Trend {
            x: "n".into(),
            y: "final_sharpness".into(),
            direction,
            min_rho: 0.8,
            only_where_above_one: None,
            group: None,
        };
        let up = evaluate(&rule(Direction::Increasing), &rising, &no_tail);
        assert_eq!(up.outcome, Outcome::Holds);
        let down = evaluate(&rule(Direction::Decreasing), &rising, &no_tail);
        assert_eq!(down.outcome, Outcome::DoesNotHold);
    }

    #[test]
    fn diverged_runs_are_left_out_and_too_few_points_is_inconclusive() {
        let records = vec![
            record("a", 100, 1.0, RunStatus::Converged),
            record("b", 200, 2.0, RunStatus::Converged),
            record("c", 300, f64::NAN, RunStatus::Diverged),
        ];
        let rule = VerdictRule::Trend {
            x: "n".into(),
            y: "final_sharpness".into(),
            direction: Direction::Increasing,
            min_rho: 0.8,
            only_where_above_one: None,
            group: None,
        };
        let v = evaluate(&rule, &records, &no_tail);
        assert_eq!(v.outcome, Outcome::Inconclusive);
        assert!(v.why.contains("1 diverged"));
    }

    #[test]
    fn tracks_uses_the_worst_relative_error() {
        // predicted = 2n; measured within 10% for n=100 (190) and 25% off for n=200 (300).
        let records = vec![
            record("a", 100, 190.0, RunStatus::Converged),
            record("b", 200, 300.0, RunStatus::Converged),
        ];
        let rule = |tol| VerdictRule::Tracks {
            y: "final_sharpness".into(),
            prediction: "predicted_sharpness".into(),
            max_rel_error: tol,
        };
        let strict = evaluate(&rule(0.2), &records, &no_tail);
        assert_eq!(strict.outcome, Outcome::DoesNotHold);
        assert!((strict.statistic.unwrap() - 0.25).abs() < 1e-12);
        assert_eq!(
            evaluate(&rule(0.3), &records, &no_tail).outcome,
            Outcome::Holds
        );
    }

    #[test]
    fn superlinear_compares_growth_with_the_ratio_of_x() {
        let records = vec![
            record("a", 100, 1.0, RunStatus::Converged),
            record("b", 1000, 50.0, RunStatus::Converged),
        ];
        let rule = VerdictRule::Superlinear {
            x: "n".into(),
            y: "final_sharpness".into(),
            group: None,
        };
        assert_eq!(evaluate(&rule, &records, &no_tail).outcome, Outcome::Holds);
    }

    #[test]
    fn a_grouped_rule_must_hold_in_every_group_and_reports_the_worst() {
        // group a grows ×50 over ×10 in n (superlinear), group b only ×5 (not)
        let mut records = vec![
            record("a1", 100, 1.0, RunStatus::Converged),
            record("a2", 1000, 50.0, RunStatus::Converged),
            record("b1", 100, 2.0, RunStatus::Converged),
            record("b2", 1000, 10.0, RunStatus::Converged),
        ];
        for (r, pair) in records.iter_mut().zip(["a", "a", "b", "b"]) {
            r.params
                .insert("pair".into(), toml::Value::String(pair.into()));
        }
        let rule = |group: Option<&str>| VerdictRule::Superlinear {
            x: "n".into(),
            y: "final_sharpness".into(),
            group: group.map(String::from),
        };
        let grouped = evaluate(&rule(Some("pair")), &records, &no_tail);
        assert_eq!(grouped.outcome, Outcome::DoesNotHold);
        assert!((grouped.statistic.unwrap() - 0.5).abs() < 1e-12);
        assert!(grouped.why.starts_with("a: ") && grouped.why.contains("; b: "));
        // pooled, the averages at n = 100 and 1000 are 1.5 and 30: ×20 over ×10
        let pooled = evaluate(&rule(None), &records, &no_tail);
        assert_eq!(pooled.outcome, Outcome::Holds);
    }

    #[test]
    fn combine_prefers_does_not_hold_then_inconclusive() {
        let v = |outcome| RuleVerdict {
            outcome,
            statistic: None,
            why: String::new(),
        };
        assert_eq!(
            combine(&[v(Outcome::Holds), v(Outcome::Inconclusive)]),
            Outcome::Inconclusive
        );
        assert_eq!(
            combine(&[v(Outcome::Inconclusive), v(Outcome::DoesNotHold)]),
            Outcome::DoesNotHold
        );
        assert_eq!(combine(&[v(Outcome::Holds)]), Outcome::Holds);
    }
}
