//! Axes: the 1-2-5 "nice numbers" tick algorithm, linear and categorical
//! scales, and the drawing of gridlines, tick labels and axis lines.
//!
//! The tick algorithm follows Heckbert ("Nice numbers for graph labels",
//! Graphics Gems, 1990) in its tighter form: the data range divided by the
//! target tick count minus one is rounded to the nearest of 1, 2 or 5 ×
//! 10ⁿ (Heckbert first rounds the range itself up to a nice number, which
//! can leave up to half the axis empty). The axis then runs from the
//! largest multiple of the step at or below the minimum to the smallest
//! multiple at or above the maximum.

use crate::style::Style;
use crate::svg::{fmt_value, text_width, Attrs, Rect, Svg};

/// Tick positions for one axis, produced by [`nice_ticks`].
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    /// Tick values in increasing order; the first and last are the axis
    /// limits.
    pub values: Vec<f64>,
    /// Distance between ticks: 1, 2 or 5 × 10ⁿ.
    pub step: f64,
    /// Decimals needed to print every tick exactly (0 for steps ≥ 1).
    pub decimals: usize,
}

impl Ticks {
    /// Lower axis limit (the first tick).
    pub fn min(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }

    /// Upper axis limit (the last tick).
    pub fn max(&self) -> f64 {
        self.values.last().copied().unwrap_or(1.0)
    }

    /// The printed form of a tick value: [`Ticks::decimals`] decimals and
    /// comma thousands separators.
    pub fn label(&self, v: f64) -> String {
        fmt_value(v, self.decimals)
    }

    /// Printed forms of all ticks.
    pub fn labels(&self) -> Vec<String> {
        self.values.iter().map(|&v| self.label(v)).collect()
    }
}

/// A nice number `mantissa × 10^exp` with mantissa 1, 2 or 5.
#[derive(Clone, Copy)]
struct Nice {
    mantissa: i64,
    exp: i32,
}

impl Nice {
    /// The nice number nearest `x > 0`: its leading digits rounded to
    /// 1 (below 1.5), 2 (below 3), 5 (below 7) or 10.
    fn near(x: f64) -> Nice {
        let exp = x.log10().floor() as i32;
        let f = x / 10f64.powi(exp);
        let m = match f {
            f if f < 1.5 => 1,
            f if f < 3.0 => 2,
            f if f < 7.0 => 5,
            _ => 10,
        };
        if m == 10 {
            Nice {
                mantissa: 1,
                exp: exp + 1,
            }
        } else {
            Nice { mantissa: m, exp }
        }
    }

    /// `k` times this number, computed so that decimal ticks such as 0.006
    /// come out as the nearest double rather than 0.006000000000000001.
    fn times(self, k: i64) -> f64 {
        let n = (k * self.mantissa) as f64;
        if self.exp >= 0 {
            n * 10f64.powi(self.exp)
        } else {
            n / 10f64.powi(-self.exp)
        }
    }

    fn value(self) -> f64 {
        self.times(1)
    }
}

/// Orders and repairs an input range: non-finite ends become 0/1, huge
/// magnitudes are capped and an (almost) empty range is widened around its
/// centre by 10 % (or to ±1 around zero).
fn sane_range(min: f64, max: f64) -> (f64, f64) {
    let fix = |v: f64, d: f64| {
        if v.is_finite() {
            v.clamp(-1e300, 1e300)
        } else {
            d
        }
    };
    let (a, b) = (fix(min, 0.0), fix(max, 1.0));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let scale = 1f64.max(lo.abs()).max(hi.abs());
    if hi - lo >= 1e-9 * scale {
        return (lo, hi);
    }
    let centre = lo / 2.0 + hi / 2.0;
    let pad = if centre.abs() > 1e-9 {
        centre.abs() * 0.1
    } else {
        1.0
    };
    (centre - pad, centre + pad)
}

/// The multiple of `step` at or below (`up == false`) or at or above
/// (`up == true`) `v`, tolerant of floating-point noise.
fn snap(v: f64, step: Nice, up: bool) -> i64 {
    let r = v / step.value();
    let nearest = r.round();
    if (r - nearest).abs() < 1e-6 {
        nearest as i64
    } else if up {
        r.ceil() as i64
    } else {
        r.floor() as i64
    }
}

/// Nice tick values covering `[min, max]` with about `target` ticks
/// (clamped to 2–20). Never panics: a reversed range is reordered, a
/// non-finite end is replaced and an empty range is widened.
///
/// ```
/// use haven_charts::nice_ticks;
/// let t = nice_ticks(0.0, 97.0, 5);
/// assert_eq!(t.values, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
/// ```
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Ticks {
    let (lo, hi) = sane_range(min, max);
    let target = target.clamp(2, 20) as f64;
    let step = Nice::near((hi - lo) / (target - 1.0));
    let first = snap(lo, step, false);
    let last = snap(hi, step, true).max(first + 1);
    Ticks {
        values: (first..=last).map(|k| step.times(k)).collect(),
        step: step.value(),
        decimals: usize::try_from(-step.exp).unwrap_or(0),
    }
}

/// A linear map from a data domain onto a pixel range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LinearScale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl LinearScale {
    /// Maps `[d0, d1]` onto `[r0, r1]` (a zero-width domain maps to the
    /// middle of the range).
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Self {
        LinearScale { d0, d1, r0, r1 }
    }

    /// A vertical scale for the ticks' domain over `plot` (up is larger).
    pub fn vertical(ticks: &Ticks, plot: Rect) -> Self {
        Self::new(ticks.min(), ticks.max(), plot.bottom(), plot.y)
    }

    /// A horizontal scale for the ticks' domain over `plot`.
    pub fn horizontal(ticks: &Ticks, plot: Rect) -> Self {
        Self::new(ticks.min(), ticks.max(), plot.x, plot.right())
    }

    /// The pixel position of `v`.
    pub fn map(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span == 0.0 || !span.is_finite() {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
    }
}

/// Equally spaced category positions across a plot: category `i` sits at
/// the centre of the `i`-th of `n` equal bands.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PointScale {
    left: f64,
    /// Width of one band.
    pub step: f64,
}

impl PointScale {
    /// `n` bands across `plot` (at least one).
    pub fn new(n: usize, plot: Rect) -> Self {
        PointScale {
            left: plot.x,
            step: plot.w / n.max(1) as f64,
        }
    }

    /// Centre of band `i`.
    pub fn map(&self, i: usize) -> f64 {
        self.left + (i as f64 + 0.5) * self.step
    }
}

/// Width to reserve left of the plot for the y tick labels.
pub(crate) fn y_label_width(ticks: &Ticks, style: &Style) -> f64 {
    let widest = ticks
        .labels()
        .iter()
        .map(|l| text_width(l, style.font_size))
        .fold(0.0, f64::max);
    widest + 10.0
}

/// Horizontal gridlines, tick labels and the left axis line.
pub(crate) fn draw_y_axis(
    svg: &mut Svg,
    plot: Rect,
    scale: &LinearScale,
    ticks: &Ticks,
    style: &Style,
) {
    svg.open("g", Attrs::new().str("class", "axis y-axis"));
    for &v in &ticks.values {
        let y = scale.map(v);
        grid_line(svg, (plot.x, y), (plot.right(), y), style);
        let attrs = label_attrs(style)
            .num("x", plot.x - 6.0)
            .num("y", y + style.font_size * 0.35)
            .str("text-anchor", "end");
        svg.text("text", attrs, &ticks.label(v));
    }
    axis_line(svg, (plot.x, plot.y), (plot.x, plot.bottom()), style);
    svg.close();
}

/// Vertical gridlines, tick labels and the bottom axis line for a linear
/// x axis.
pub(crate) fn draw_x_axis(
    svg: &mut Svg,
    plot: Rect,
    scale: &LinearScale,
    ticks: &Ticks,
    style: &Style,
) {
    svg.open("g", Attrs::new().str("class", "axis x-axis"));
    let labels: Vec<(f64, String)> = ticks
        .values
        .iter()
        .map(|&v| (scale.map(v), ticks.label(v)))
        .collect();
    let every = label_stride(&labels, style);
    for (i, (x, label)) in labels.iter().enumerate() {
        grid_line(svg, (*x, plot.y), (*x, plot.bottom()), style);
        if i % every == 0 {
            svg.text("text", x_label_attrs(*x, plot, style), label);
        }
    }
    axis_line(
        svg,
        (plot.x, plot.bottom()),
        (plot.right(), plot.bottom()),
        style,
    );
    svg.close();
}

/// Category labels under the plot at the given x positions, thinned to
/// every k-th label so that neighbours cannot overlap, plus the bottom
/// axis line. Positions must be in increasing order.
pub(crate) fn draw_x_categories(svg: &mut Svg, plot: Rect, labels: &[(f64, &str)], style: &Style) {
    svg.open("g", Attrs::new().str("class", "axis x-axis"));
    let every = label_stride(labels, style);
    for (i, (x, label)) in labels.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let tick = Attrs::new()
            .num("x1", *x)
            .num("y1", plot.bottom())
            .num("x2", *x)
            .num("y2", plot.bottom() + 4.0)
            .str("stroke", style.axis.as_str());
        svg.leaf("line", tick);
        svg.text("text", x_label_attrs(*x, plot, style), label);
    }
    axis_line(
        svg,
        (plot.x, plot.bottom()),
        (plot.right(), plot.bottom()),
        style,
    );
    svg.close();
}

/// Show every `k`-th category label, with `k` the smallest stride at which
/// the widest label fits into the narrowest gap.
fn label_stride<S: AsRef<str>>(labels: &[(f64, S)], style: &Style) -> usize {
    let widest = labels
        .iter()
        .map(|(_, l)| text_width(l.as_ref(), style.font_size))
        .fold(0.0, f64::max)
        + 8.0;
    let gap = labels
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .fold(f64::INFINITY, f64::min);
    if !gap.is_finite() || gap <= 0.0 {
        return 1;
    }
    ((widest / gap).ceil() as usize).clamp(1, labels.len().max(1))
}

fn x_label_attrs(x: f64, plot: Rect, style: &Style) -> Attrs {
    label_attrs(style)
        .num("x", x)
        .num("y", plot.bottom() + 6.0 + style.font_size)
        .str("text-anchor", "middle")
}

fn label_attrs(style: &Style) -> Attrs {
    Attrs::new()
        .str("class", "tick-label")
        .str("fill", style.muted_text.as_str())
}

fn grid_line(svg: &mut Svg, a: (f64, f64), b: (f64, f64), style: &Style) {
    let attrs = Attrs::new()
        .str("class", "grid")
        .num("x1", a.0)
        .num("y1", a.1)
        .num("x2", b.0)
        .num("y2", b.1)
        .str("stroke", style.grid.as_str());
    svg.leaf("line", attrs);
}

fn axis_line(svg: &mut Svg, a: (f64, f64), b: (f64, f64), style: &Style) {
    let attrs = Attrs::new()
        .str("class", "axis-line")
        .num("x1", a.0)
        .num("y1", a.1)
        .num("x2", b.0)
        .num("y2", b.1)
        .str("stroke", style.axis.as_str());
    svg.leaf("line", attrs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_number_rounding() {
        let v = |x| Nice::near(x).value();
        assert_eq!(v(24.25), 20.0);
        assert_eq!(v(0.002075), 0.002);
        assert_eq!(v(1.49), 1.0);
        assert_eq!(v(7.0), 10.0);
        assert_eq!(v(3.0), 5.0);
        assert_eq!(v(4200.0), 5000.0);
    }

    #[test]
    fn snapping_tolerates_noise() {
        let step = Nice {
            mantissa: 2,
            exp: -1,
        };
        assert_eq!(snap(0.6, step, false), 3);
        assert_eq!(snap(0.6, step, true), 3);
        assert_eq!(snap(0.61, step, true), 4);
    }

    #[test]
    fn point_scale_centres_bands() {
        let plot = Rect {
            x: 10.0,
            y: 0.0,
            w: 100.0,
            h: 50.0,
        };
        let s = PointScale::new(4, plot);
        assert_eq!(s.map(0), 22.5);
        assert_eq!(s.map(3), 97.5);
    }

    #[test]
    fn stride_thins_crowded_labels() {
        let style = Style::default();
        let labels: Vec<(f64, &str)> = (0..10).map(|i| (i as f64 * 20.0, "2024-25 Q1")).collect();
        // 10 chars ≈ 66 px + 8 px margin over a 20 px gap → every 4th label.
        assert_eq!(label_stride(&labels, &style), 4);
    }
}
