//! Theograph: one patient's encounters with services on one timeline, a
//! lane per kind of encounter (issue 18 §4; the "theograph" of NHS
//! population-health tools). Admissions are bars from admission to
//! discharge, so their length reads off the chart; every other encounter
//! is a mark on its day, a did-not-attend appointment a hollow one. Each
//! mark carries a tooltip (`<title>`) with its date and description.
//!
//! Days are whole days since 1970-01-01 (what Arrow's `Date32` holds), so
//! the chart needs no date library; tick labels are months (`2024-05`).

use crate::axis::LinearScale;
use crate::data::plural;
use crate::frame::{begin, no_data, with_note, ChartText, FrameSpec, LegendItem, Swatch};
use crate::style::{Style, NHS_AQUA_GREEN, NHS_BLUE, NHS_DARK_GREY, NHS_MID_GREY, NHS_ORANGE, NHS_PALE_GREY, NHS_PINK, NHS_PURPLE, NHS_RED};
use crate::svg::{Attrs, Svg};

/// The kinds of encounter, one lane each, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EncounterKind {
    /// An emergency admission (a bar, admission to discharge).
    EmergencyAdmission,
    /// Any other admission: elective, day case, maternity, transfer.
    OtherAdmission,
    /// A period of adult, paediatric or neonatal critical care (a bar).
    CriticalCare,
    /// An A&E attendance.
    AandE,
    /// An outpatient attendance.
    Outpatient,
    /// An outpatient appointment not attended (hollow mark).
    OutpatientDna,
    /// A GP-coded event.
    GpEvent,
    /// A prescription issued.
    Prescription,
}

const KINDS: [EncounterKind; 8] = [
    EncounterKind::EmergencyAdmission,
    EncounterKind::OtherAdmission,
    EncounterKind::CriticalCare,
    EncounterKind::AandE,
    EncounterKind::Outpatient,
    EncounterKind::OutpatientDna,
    EncounterKind::GpEvent,
    EncounterKind::Prescription,
];

impl EncounterKind {
    /// The lane's label.
    pub fn label(self) -> &'static str {
        match self {
            EncounterKind::EmergencyAdmission => "Emergency admissions",
            EncounterKind::OtherAdmission => "Other admissions",
            EncounterKind::CriticalCare => "Critical care",
            EncounterKind::AandE => "A&E",
            EncounterKind::Outpatient => "Outpatients",
            EncounterKind::OutpatientDna => "Outpatients not attended",
            EncounterKind::GpEvent => "GP events",
            EncounterKind::Prescription => "Prescriptions",
        }
    }

    fn class(self) -> &'static str {
        match self {
            EncounterKind::EmergencyAdmission => "emergency-admission",
            EncounterKind::OtherAdmission => "other-admission",
            EncounterKind::CriticalCare => "critical-care",
            EncounterKind::AandE => "a-and-e",
            EncounterKind::Outpatient => "outpatient",
            EncounterKind::OutpatientDna => "outpatient-dna",
            EncounterKind::GpEvent => "gp-event",
            EncounterKind::Prescription => "prescription",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            EncounterKind::EmergencyAdmission => NHS_RED,
            EncounterKind::OtherAdmission => NHS_BLUE,
            EncounterKind::CriticalCare => NHS_PURPLE,
            EncounterKind::AandE => NHS_ORANGE,
            EncounterKind::Outpatient | EncounterKind::OutpatientDna => NHS_AQUA_GREEN,
            EncounterKind::GpEvent => NHS_DARK_GREY,
            EncounterKind::Prescription => NHS_PINK,
        }
    }

    /// Drawn as a bar from start to end.
    fn is_period(self) -> bool {
        matches!(self, EncounterKind::EmergencyAdmission | EncounterKind::OtherAdmission | EncounterKind::CriticalCare)
    }
}

/// One encounter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encounter {
    /// What it was.
    pub kind: EncounterKind,
    /// Its day (days since 1970-01-01): admission, attendance, issue.
    pub day: i32,
    /// The last day of a period (discharge); `None` for a single day or a
    /// period still open at the chart's end.
    pub end: Option<i32>,
    /// A short description for the tooltip (no identifier).
    pub label: String,
}

/// A theograph. Render with [`Theograph::render`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Theograph {
    /// Title, subtitle and note.
    pub text: ChartText,
    /// First and last day shown (days since 1970-01-01).
    pub from: i32,
    /// Last day shown.
    pub to: i32,
    /// The encounters; those wholly outside `from..=to` are not drawn.
    pub encounters: Vec<Encounter>,
}

/// The civil date of a day number (H. Hinnant's `civil_from_days`).
fn civil(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((yoe + era * 400 + i64::from(m <= 2)) as i32, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_label(days: i32) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day number of the first of each month in `from..=to`, thinned so
/// at most about eight are labelled.
fn month_ticks(from: i32, to: i32) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let (y, m, d) = civil(day);
        if d == 1 {
            out.push((day, format!("{y:04}-{m:02}")));
            day += 28;
        } else {
            day += 1;
        }
    }
    let step = out.len().div_ceil(8).max(1);
    out.into_iter().step_by(step).collect()
}

impl Theograph {
    fn shown(&self) -> impl Iterator<Item = &Encounter> {
        self.encounters.iter().filter(|e| e.day <= self.to && e.end.unwrap_or(e.day) >= self.from)
    }

    /// Renders the chart as a standalone SVG document.
    pub fn render(&self, style: &Style) -> String {
        let style = style.sanitised();
        let notes = with_note(Vec::new(), &self.text);
        let lanes: Vec<EncounterKind> = KINDS.into_iter().filter(|k| self.shown().any(|e| e.kind == *k)).collect();
        if lanes.is_empty() || self.to < self.from {
            return no_data("theograph", &self.text, notes, &style);
        }
        let lane_h = style.font_size * 2.2;
        let mut spec = FrameSpec::new("theograph", &self.text, self.summary());
        spec.notes = notes;
        spec.legend = lanes.iter().map(|k| LegendItem::new(k.label(), Swatch::block(k.colour(), 1.0))).collect();
        spec.y_gutter = lanes.iter().map(|k| crate::svg::text_width(k.label(), style.font_size)).fold(0.0, f64::max) + 8.0;
        spec.x_gutter = style.font_size + 10.0;
        spec.plot_height = Some(lane_h * lanes.len() as f64);
        let (mut svg, plot) = begin(&spec, &style);
        let xs = LinearScale::new(f64::from(self.from), f64::from(self.to) + 1.0, plot.x, plot.right());
        for (day, label) in month_ticks(self.from, self.to) {
            let x = xs.map(f64::from(day));
            svg.leaf("line", Attrs::new().str("class", "gridline").num("x1", x).num("y1", plot.y).num("x2", x).num("y2", plot.bottom()).str("stroke", NHS_PALE_GREY));
            // A label near the right edge ends at its tick, so it is not cut off.
            let anchor = if x + crate::svg::text_width(&label, style.font_size) / 2.0 > plot.right() { "end" } else { "middle" };
            svg.text("text", Attrs::new().str("class", "tick-label").num("x", x).num("y", plot.bottom() + style.font_size + 4.0).str("text-anchor", anchor).num("font-size", style.font_size).str("fill", NHS_DARK_GREY), &label);
        }
        for (i, kind) in lanes.iter().enumerate() {
            let mid = plot.y + lane_h * (i as f64 + 0.5);
            svg.text("text", Attrs::new().str("class", "lane-label").num("x", plot.x - 6.0).num("y", mid + style.font_size * 0.35).str("text-anchor", "end").num("font-size", style.font_size).str("fill", NHS_DARK_GREY), kind.label());
            svg.leaf("line", Attrs::new().str("class", "lane").num("x1", plot.x).num("y1", mid).num("x2", plot.right()).num("y2", mid).str("stroke", NHS_MID_GREY).num("stroke-width", 0.5));
            for e in self.shown().filter(|e| e.kind == *kind) {
                draw(&mut svg, e, (&xs, mid, lane_h), (self.from, self.to));
            }
        }
        svg.finish()
    }

    fn summary(&self) -> String {
        let mut s = format!("Theograph from {} to {}", day_label(self.from), day_label(self.to));
        for k in KINDS {
            let n = self.shown().filter(|e| e.kind == k).count();
            if n > 0 {
                s.push_str(&format!("; {}: {n}", k.label()));
            }
        }
        let bed_days: i32 = self.shown().filter(|e| matches!(e.kind, EncounterKind::EmergencyAdmission | EncounterKind::OtherAdmission)).map(|e| e.end.unwrap_or(self.to).min(self.to) - e.day.max(self.from)).sum();
        if bed_days > 0 {
            s.push_str(&format!("; {} in hospital", plural(bed_days as usize, "bed day", "bed days")));
        }
        s
    }
}

/// One encounter's mark in its lane, with its tooltip.
fn draw(svg: &mut Svg, e: &Encounter, (xs, mid, lane_h): (&LinearScale, f64, f64), (from, to): (i32, i32)) {
    let tip = match e.end {
        Some(end) if e.kind.is_period() => format!("{} to {}: {}", day_label(e.day), day_label(end), e.label),
        _ => format!("{}: {}", day_label(e.day), e.label),
    };
    let class = e.kind.class();
    if e.kind.is_period() {
        // A stay shows its length: admission day to discharge day,
        // clipped to the chart, never thinner than two pixels.
        let (a, b) = (xs.map(f64::from(e.day.max(from))), xs.map(f64::from(e.end.unwrap_or(to).min(to)) + 1.0));
        let attrs = Attrs::new().str("class", class).num("x", a).num("y", mid - lane_h * 0.3).num("width", (b - a).max(2.0)).num("height", lane_h * 0.6).str("fill", e.kind.colour());
        svg.with_tooltip("rect", attrs, &tip);
    } else {
        let hollow = e.kind == EncounterKind::OutpatientDna;
        let attrs = Attrs::new()
            .str("class", class)
            .num("cx", xs.map(f64::from(e.day) + 0.5))
            .num("cy", mid)
            .num("r", lane_h * 0.18)
            .str("fill", if hollow { "#FFFFFF" } else { e.kind.colour() })
            .str("stroke", e.kind.colour())
            .num("stroke-width", 1.5);
        svg.with_tooltip("circle", attrs, &tip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days since 1970-01-01 of a date, by counting (for checking `civil`).
    fn days_of(y: i32, m: u32, d: u32) -> i32 {
        let leap = |y: i32| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = |y: i32, m: u32| [31, if leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
        let mut n = 0;
        for year in 1970..y {
            n += if leap(year) { 366 } else { 365 };
        }
        for month in 1..m {
            n += month_days(y, month);
        }
        n + d as i32 - 1
    }

    #[test]
    fn day_numbers_become_dates() {
        assert_eq!(day_label(0), "1970-01-01");
        assert_eq!(day_label(days_of(2024, 2, 29)), "2024-02-29");
        assert_eq!(day_label(days_of(2000, 3, 1)), "2000-03-01");
        assert_eq!(day_label(-1), "1969-12-31");
        for (y, m, d) in [(2023, 12, 31), (2024, 1, 1), (2025, 4, 1), (2100, 3, 1)] {
            assert_eq!(civil(days_of(y, m, d)), (y, m, d));
        }
    }

    fn chart() -> Theograph {
        let d = |m, day| days_of(2024, m, day);
        Theograph {
            text: ChartText::new("Patient timeline"),
            from: d(1, 1),
            to: d(12, 31),
            encounters: vec![
                // Admitted 3 May, discharged 8 May: 5 bed days.
                Encounter { kind: EncounterKind::EmergencyAdmission, day: d(5, 3), end: Some(d(5, 8)), label: "emergency admission, 5 days".into() },
                Encounter { kind: EncounterKind::AandE, day: d(5, 3), end: None, label: "A&E attendance".into() },
                Encounter { kind: EncounterKind::OutpatientDna, day: d(6, 20), end: None, label: "cardiology, did not attend".into() },
                Encounter { kind: EncounterKind::Outpatient, day: d(7, 1), end: None, label: "cardiology <follow-up>".into() },
                // Outside the window: not drawn, not counted.
                Encounter { kind: EncounterKind::Prescription, day: d(1, 1) - 10, end: None, label: "old".into() },
            ],
        }
    }

    #[test]
    fn each_encounter_is_drawn_in_its_lane_with_its_tooltip() {
        let svg = chart().render(&Style::default());
        quick_xml::Reader::from_str(&svg).read_event().unwrap();
        assert_eq!(svg.matches("class=\"emergency-admission\"").count(), 1);
        assert_eq!(svg.matches("class=\"a-and-e\"").count(), 1);
        assert_eq!(svg.matches("class=\"outpatient-dna\"").count(), 1);
        assert!(!svg.contains("class=\"prescription\""), "outside the window");
        assert!(svg.contains("2024-05-03 to 2024-05-08: emergency admission, 5 days"));
        assert!(svg.contains("cardiology &lt;follow-up&gt;"), "tooltips are escaped");
        // Four lanes with something in them, each labelled once.
        assert_eq!(svg.matches("class=\"lane-label\"").count(), 4);
        assert!(svg.contains("Emergency admissions: 1; A&amp;E: 1; Outpatients: 1; Outpatients not attended: 1; 5 bed days in hospital"), "{svg}");
    }

    #[test]
    fn an_admission_is_as_long_as_its_stay() {
        let svg = chart().render(&Style::default());
        let rect = svg.split("<rect class=\"emergency-admission\"").nth(1).unwrap();
        let width: f64 = rect.split("width=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        // 6 days (3 to 8 May inclusive) of 366 across the plot's width.
        let plot: f64 = Style::default().width;
        assert!(width > 0.0 && width < plot * 7.0 / 366.0 && width > plot * 4.0 / 366.0 * 0.5, "{width}");
    }

    #[test]
    fn nothing_to_draw_is_no_data_and_the_same_input_the_same_svg() {
        let mut empty = chart();
        empty.encounters.clear();
        assert!(empty.render(&Style::default()).contains("No data"));
        let mut backwards = chart();
        backwards.to = backwards.from - 1;
        assert!(backwards.render(&Style::default()).contains("No data"));
        assert_eq!(chart().render(&Style::default()), chart().render(&Style::default()));
    }
}
