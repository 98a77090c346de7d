//! PNG figures of an experiment, drawn with plotters: sharpness trajectories with their 2/η
//! and Ŝ_D lines above the loss on a log scale, trends beside the theory's prediction, and the
//! measured-against-predicted scatter with Pearson's r.
//!
//! Text is set in DejaVu Sans, embedded in the binary, so figures render the same on every
//! machine without system fonts.
//!
//! # Limitations
//!
//! With many runs in one trajectory figure the palette repeats after ten colours.

use std::path::Path;
use std::sync::Once;

use anyhow::{Context as _, anyhow};
use plotters::coord::combinators::WithKeyPoints;
use plotters::prelude::*;

use super::trajectory::Trajectory;
use super::verdict::pearson;
use crate::experiment::store::PendingFile;

const WIDTH: u32 = 1000;
const FONT: &str = "sans-serif";

/// One line of a trajectory figure.
pub struct TrajectoryLine<'a> {
    pub label: String,
    pub trajectory: &'a Trajectory,
    /// Ŝ_D for the run, drawn dotted when known.
    pub predicted: Option<f64>,
}

/// One named series of (x, y) points.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// A prediction of the theory: drawn dashed with hollow markers, so that a measurement
    /// lying on it stays visible.
    pub theory: bool,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_err()
        {
            tracing::warn!("the embedded font did not load; plots will lack text");
        }
    });
}

fn colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    PALETTE[i % PALETTE.len()]
}

fn plot_error<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow!("cannot draw {}: {e:?}", path.display())
}

/// Draws into `<name>.tmp.png` beside `path`, then renames it into place, so an interrupted
/// job never leaves a half-written figure.
fn write_atomically(
    path: &Path,
    draw: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let pending = PendingFile::keeping_extension(path)?;
    draw(pending.temp_path())?;
    pending.commit()
}

/// An axis tick: at most four significant digits, no trailing zeros, and an exponent only
/// for very small or large magnitudes ("0.3", "200", "1.5e-5"), so that log axes stay
/// readable.
fn tick(value: &f64) -> String {
    let v = *value;
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        let text = format!("{v:.2e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exponent}");
    }
    let decimals = (3 - magnitude.log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A log axis over [lo, hi] with ticks a reader can use whatever its width: 1, 2, 5 × 10ᵏ, or
/// every 1…9 × 10ᵏ on an axis narrower than that gives three of, or every decade (or every
/// other) on a wide one; the 1…9 × 10ᵏ points draw the light grid when there are few enough.
/// (plotters' own log axis labels its light points too, crowding the top of every decade.)
fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    let (bold, light) = log_ticks(lo, hi);
    (lo..hi)
        .log_scale()
        .with_key_points(bold)
        .with_light_points(light)
}

/// The labelled and the light ticks of [`log_axis`].
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let within = |multipliers: &[f64]| -> Vec<f64> {
        let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (first..=last)
            .flat_map(|e| multipliers.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let every: Vec<f64> = (1..=9).map(f64::from).collect();
    let dense = within(&every);
    let mut bold = within(&[1.0, 2.0, 5.0]);
    if bold.len() < 3 {
        bold = dense.clone();
    }
    if bold.len() > 10 {
        bold = within(&[1.0]);
        let stride = bold.len().div_ceil(8);
        bold = bold.into_iter().step_by(stride).collect();
    }
    if bold.len() < 2 {
        // narrower than from one 1…9 × 10ᵏ point to the next: both ends
        bold = vec![lo, hi];
    }
    let light = if dense.len() <= 40 { dense } else { Vec::new() };
    (bold, light)
}

/// The range of `values` with a margin, or `fallback` when there are none.
fn span(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.5, hi * 1.5)
    } else {
        let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-12);
        (lo - pad, hi + pad)
    }
}

/// Sharpness against step (with dashed 2/η and dotted Ŝ_D per run) above the loss.
pub fn trajectories(path: &Path, title: &str, lines: &[TrajectoryLine]) -> anyhow::Result<()> {
    write_atomically(path, |target| draw_trajectories(target, title, lines))
}

fn draw_trajectories(path: &Path, title: &str, lines: &[TrajectoryLine]) -> anyhow::Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (WIDTH, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error(path))?;
    let (top, bottom) = root.split_vertically(520);

    let max_step = span(lines.iter().flat_map(|l| l.trajectory.step.clone()), false).1;
    let sharp_values = lines.iter().flat_map(|l| {
        let limits = l.trajectory.two_over_lr.last().copied();
        l.trajectory
            .sharpness_points()
            .into_iter()
            .map(|p| p.1)
            .chain(limits)
            .chain(l.predicted)
    });
    let (s_lo, s_hi) = span(sharp_values, false);
    let mut chart = ChartBuilder::on(&top)
        .caption(title, (FONT, 26))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max_step, s_lo.min(0.0)..s_hi)
        .map_err(plot_error(path))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("sharpness (top Hessian eigenvalue)")
        .label_style((FONT, 16))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(plot_error(path))?;
    for (i, line) in lines.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(
                line.trajectory.sharpness_points(),
                c.stroke_width(2),
            ))
            .map_err(plot_error(path))?
            .label(line.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        if let Some(limit) = line.trajectory.two_over_lr.last().copied() {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, limit), (max_step, limit)],
                    10,
                    6,
                    c.stroke_width(1),
                ))
                .map_err(plot_error(path))?;
        }
        if let Some(predicted) = line.predicted {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, predicted), (max_step, predicted)],
                    2,
                    5,
                    c.stroke_width(2),
                ))
                .map_err(plot_error(path))?;
        }
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(plot_error(path))?;
    let note = if lines.iter().any(|l| l.predicted.is_some()) {
        "dashed: 2/η    dotted: predicted sharpness Ŝ_D"
    } else {
        "dashed: 2/η"
    };
    top.draw_text(note, &(FONT, 15).into_text_style(&top), (90, 40))
        .map_err(plot_error(path))?;

    let losses = lines
        .iter()
        .flat_map(|l| l.trajectory.loss.clone().into_iter());
    let (l_lo, l_hi) = span(losses, true);
    let mut chart = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max_step, log_axis(l_lo, l_hi))
        .map_err(plot_error(path))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("training loss (log scale)")
        .label_style((FONT, 16))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(plot_error(path))?;
    for (i, line) in lines.iter().enumerate() {
        let points = line
            .trajectory
            .step
            .iter()
            .zip(&line.trajectory.loss)
            .filter(|(_, l)| l.is_finite() && **l > 0.0)
            .map(|(s, l)| (*s, *l));
        chart
            .draw_series(LineSeries::new(points, colour(i).stroke_width(1)))
            .map_err(plot_error(path))?;
    }
    root.present().map_err(plot_error(path))?;
    Ok(())
}

/// Several series against one x, with optional log axes and published reference points.
pub fn trend(
    path: &Path,
    title: &str,
    labels: (&str, &str),
    logs: (bool, bool),
    series: &[Series],
) -> anyhow::Result<()> {
    write_atomically(path, |target| {
        draw_trend(target, title, labels, logs, series)
    })
}

fn draw_trend(
    path: &Path,
    title: &str,
    (x_label, y_label): (&str, &str),
    (log_x, log_y): (bool, bool),
    series: &[Series],
) -> anyhow::Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (WIDTH, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error(path))?;
    let xs = span(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        log_x,
    );
    let ys = span(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        log_y,
    );
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, (FONT, 26))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80);
    // Four axis combinations: plotters types a log axis differently from a linear one.
    macro_rules! draw_on {
        ($x:expr, $y:expr) => {{
            let mut chart = builder
                .build_cartesian_2d($x, $y)
                .map_err(plot_error(path))?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .label_style((FONT, 16))
                .x_label_formatter(&tick)
                .y_label_formatter(&tick)
                .draw()
                .map_err(plot_error(path))?;
            for (i, s) in series.iter().enumerate() {
                let c = colour(i);
                // a theory line is dashed with hollow markers, a measurement solid with dots
                let (line, label, radius, marker) = if s.theory {
                    let dashed = DashedLineSeries::new(s.points.clone(), 8, 5, c.stroke_width(2));
                    let line = chart.draw_series(dashed).map_err(plot_error(path))?;
                    (line, format!("{} (dashed)", s.label), 7, c.stroke_width(2))
                } else {
                    let solid = LineSeries::new(s.points.clone(), c.stroke_width(2));
                    let line = chart.draw_series(solid).map_err(plot_error(path))?;
                    (line, s.label.clone(), 4, c.filled())
                };
                line.label(label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
                let markers = s
                    .points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), radius, marker));
                chart.draw_series(markers).map_err(plot_error(path))?;
            }
            chart
                .configure_series_labels()
                .label_font((FONT, 15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(plot_error(path))?;
        }};
    }
    match (log_x, log_y) {
        (false, false) => draw_on!(xs.0..xs.1, ys.0..ys.1),
        (true, false) => draw_on!(log_axis(xs.0, xs.1), ys.0..ys.1),
        (false, true) => draw_on!(xs.0..xs.1, log_axis(ys.0, ys.1)),
        (true, true) => draw_on!(log_axis(xs.0, xs.1), log_axis(ys.0, ys.1)),
    }
    root.present().map_err(plot_error(path))?;
    Ok(())
}

/// Measured against predicted, one point a run, on log axes with the line y = x; the caption
/// carries Pearson's r (on the raw values, as the paper reports it).
pub fn scatter(
    path: &Path,
    title: &str,
    labels: (&str, &str),
    points: &[(f64, f64)],
) -> anyhow::Result<()> {
    write_atomically(path, |target| draw_scatter(target, title, labels, points))
}

fn draw_scatter(
    path: &Path,
    title: &str,
    (x_label, y_label): (&str, &str),
    points: &[(f64, f64)],
) -> anyhow::Result<()> {
    register_font();
    let positive: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite())
        .collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = positive.iter().copied().unzip();
    let r = if positive.len() >= 2 {
        pearson(&xs, &ys)
    } else {
        f64::NAN
    };
    let (lo, hi) = span(xs.iter().chain(&ys).copied(), true);
    let root = BitMapBackend::new(path, (800, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error(path))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{title} (Pearson r = {r:.3})"), (FONT, 24))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(log_axis(lo, hi), log_axis(lo, hi))
        .map_err(plot_error(path))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 16))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(plot_error(path))?;
    chart
        .draw_series(DashedLineSeries::new(
            [(lo, lo), (hi, hi)],
            8,
            6,
            BLACK.stroke_width(1),
        ))
        .map_err(plot_error(path))?
        .label("measured = predicted")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
    chart
        .draw_series(
            positive
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 6, colour(0).filled())),
        )
        .map_err(plot_error(path))?
        .label("one run")
        .legend(|(x, y)| Circle::new((x + 10, y), 5, colour(0).filled()));
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(plot_error(path))?;
    root.present()
        .map_err(plot_error(path))
        .context("writing the scatter plot")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_label_every_width_of_axis() {
        // less than a decade, not containing a power of ten: 1…9 × 10ᵏ points
        let (bold, _) = log_ticks(144.0, 588.0);
        assert_eq!(bold, vec![200.0, 300.0, 400.0, 500.0]);
        // a few decades: 1, 2, 5 × 10ᵏ
        let (bold, light) = log_ticks(0.015, 0.9);
        assert_eq!(bold, vec![0.02, 0.05, 0.1, 0.2, 0.5]);
        assert!(light.len() > bold.len());
        // many decades: powers of ten, at most ten labels
        let (bold, light) = log_ticks(1e-12, 1e6);
        assert!(bold.len() <= 10 && bold.len() >= 5, "{bold:?}");
        assert!(light.is_empty());
        // narrower than 1…9 × 10ᵏ spacing: the ends
        let (bold, _) = log_ticks(201.0, 202.0);
        assert_eq!(bold, vec![201.0, 202.0]);
    }

    #[test]
    fn ticks_are_short_and_keep_their_value() {
        assert_eq!(tick(&0.30000000000000004), "0.3");
        assert_eq!(tick(&200.0), "200");
        assert_eq!(tick(&1234.6), "1235");
        assert_eq!(tick(&0.0125), "0.0125");
        assert_eq!(tick(&1.5e-5), "1.5e-5");
        assert_eq!(tick(&2.0e7), "2e7");
        assert_eq!(tick(&0.0), "0");
    }

    #[test]
    fn every_figure_writes_a_png_that_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let traj = Trajectory {
            step: vec![0.0, 1.0, 2.0],
            loss: vec![1.0, 0.5, 0.25],
            sharpness: vec![Some(1.0), None, Some(1.9)],
            two_over_lr: vec![2.0; 3],
        };
        let line = TrajectoryLine {
            label: "run".into(),
            trajectory: &traj,
            predicted: Some(3.0),
        };
        let a = dir.path().join("a.png");
        trajectories(&a, "t", &[line]).unwrap();
        let b = dir.path().join("b.png");
        let measured = Series {
            label: "Q".into(),
            points: vec![(100.0, 0.2), (1000.0, 40.0)],
            theory: false,
        };
        let predicted = Series {
            label: "predicted".into(),
            points: vec![(100.0, 0.3), (1000.0, 30.0)],
            theory: true,
        };
        trend(&b, "t", ("N", "Q"), (true, true), &[measured, predicted]).unwrap();
        let c = dir.path().join("c.png");
        scatter(&c, "t", ("Ŝ", "S"), &[(1.0, 1.1), (2.0, 2.2), (4.0, 3.9)]).unwrap();
        for p in [a, b, c] {
            let bytes = std::fs::read(&p).unwrap();
            assert_eq!(&bytes[1..4], b"PNG", "{} is not a PNG", p.display());
        }
    }
}
