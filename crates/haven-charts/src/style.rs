//! Visual style shared by every chart, and the named colour palettes:
//! the NHS identity colours, the NHS England "Making Data Count" (MDC) SPC
//! colours and the OHID/PHE Fingertips significance colours.

/// NHS Blue: the NHS identity primary colour, used for the primary series.
pub const NHS_BLUE: &str = "#005EB8";
/// NHS Dark Blue.
pub const NHS_DARK_BLUE: &str = "#003087";
/// NHS Black, used for text and reference lines.
pub const NHS_BLACK: &str = "#231F20";
/// NHS Dark Grey, used for secondary text.
pub const NHS_DARK_GREY: &str = "#425563";
/// NHS Mid Grey, used for axes.
pub const NHS_MID_GREY: &str = "#768692";
/// NHS Pale Grey, used for gridlines.
pub const NHS_PALE_GREY: &str = "#E8EDEE";
/// NHS Red, used for funnel-plot outliers and SPC targets.
pub const NHS_RED: &str = "#DA291C";
/// NHS Orange, used for the slope-index-of-inequality line.
pub const NHS_ORANGE: &str = "#ED8B00";
/// NHS Warm Yellow, used for the highlighted ("our ICB") funnel point.
pub const NHS_WARM_YELLOW: &str = "#FFB81C";
/// NHS Aqua Green.
pub const NHS_AQUA_GREEN: &str = "#00A499";
/// NHS Purple.
pub const NHS_PURPLE: &str = "#330072";
/// NHS Pink.
pub const NHS_PINK: &str = "#AE2573";

/// Making Data Count colour for common-cause variation (grey).
pub const MDC_COMMON_CAUSE: &str = "#7B7D7D";
/// Making Data Count colour for special-cause improvement (blue).
pub const MDC_IMPROVEMENT: &str = "#289DE0";
/// Making Data Count colour for special-cause concern (orange).
pub const MDC_CONCERN: &str = "#FAB428";
/// Making Data Count colour for special cause with no judgement of
/// direction (purple).
pub const MDC_NEUTRAL: &str = "#490092";

/// Fingertips colour: significantly better than England (green).
pub const FINGERTIPS_BETTER: &str = "#92D050";
/// Fingertips colour: not significantly different from England (amber).
pub const FINGERTIPS_SIMILAR: &str = "#FFC000";
/// Fingertips colour: significantly worse than England (red).
pub const FINGERTIPS_WORSE: &str = "#C00000";
/// Fingertips fill for a value not compared with England (white) …
pub const FINGERTIPS_NOT_COMPARED: &str = "#FFFFFF";
/// … drawn with this grey outline.
pub const FINGERTIPS_OUTLINE: &str = "#7F7F7F";
/// Fingertips spine: full range of areas (light grey).
pub const FINGERTIPS_RANGE: &str = "#D9D9D9";
/// Fingertips spine: 25th–75th percentile band (darker grey).
pub const FINGERTIPS_QUARTILES: &str = "#8C8C8C";

/// Fonts, sizes and colours applied to a chart. `Style::default()` is the
/// Haven house style (NHS identity colours, Arial/sans-serif, 720×440).
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// Width in pixels (clamped to 240–4000).
    pub width: f64,
    /// Height in pixels (clamped to 180–4000). The spine chart ignores it and
    /// grows with its row count.
    pub height: f64,
    /// CSS font-family list.
    pub font_family: String,
    /// Body text size in pixels (clamped to 6–32); titles scale from it.
    pub font_size: f64,
    /// Colour of the primary (single) series.
    pub primary: String,
    /// Colours given in turn to the series of a trend chart.
    pub palette: Vec<String>,
    /// Main text colour.
    pub text: String,
    /// Secondary text colour (subtitle, footnotes, tick labels).
    pub muted_text: String,
    /// Axis line colour.
    pub axis: String,
    /// Gridline colour.
    pub grid: String,
    /// Background fill.
    pub background: String,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            width: 720.0,
            height: 440.0,
            font_family: "Arial, sans-serif".to_string(),
            font_size: 12.0,
            primary: NHS_BLUE.to_string(),
            palette: [
                NHS_BLUE,
                NHS_ORANGE,
                NHS_AQUA_GREEN,
                NHS_PURPLE,
                NHS_PINK,
                NHS_DARK_GREY,
            ]
            .map(String::from)
            .to_vec(),
            text: NHS_BLACK.to_string(),
            muted_text: NHS_DARK_GREY.to_string(),
            axis: NHS_MID_GREY.to_string(),
            grid: NHS_PALE_GREY.to_string(),
            background: "#FFFFFF".to_string(),
        }
    }
}

impl Style {
    /// A copy with sizes forced into their documented ranges (non-finite
    /// values fall back to the defaults).
    pub(crate) fn sanitised(&self) -> Style {
        let d = Style::default();
        let clamp = |v: f64, default: f64, lo: f64, hi: f64| {
            if v.is_finite() {
                v.clamp(lo, hi)
            } else {
                default
            }
        };
        Style {
            width: clamp(self.width, d.width, 240.0, 4000.0),
            height: clamp(self.height, d.height, 180.0, 4000.0),
            font_size: clamp(self.font_size, d.font_size, 6.0, 32.0),
            ..self.clone()
        }
    }

    /// Colour of the `i`-th series of a multi-series chart.
    pub(crate) fn series_colour(&self, i: usize) -> &str {
        if self.palette.is_empty() {
            &self.primary
        } else {
            &self.palette[i % self.palette.len()]
        }
    }
}
