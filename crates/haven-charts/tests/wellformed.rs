//! Every chart is a well-formed, accessible, deterministic SVG document,
//! including the awkward inputs: empty, a single point, all-equal values
//! and non-finite values.

mod common;

use common::{all_charts, find, footnote_text, parse};
use haven_charts::Style;

fn examples() -> Vec<(&'static str, String)> {
    let s = Style::default();
    vec![
        ("funnel", common::funnel_example().render(&s)),
        ("spc", common::spc_example().render(&s)),
        ("spine", common::spine_example().render(&s)),
        ("inequality", common::inequality_example().render(&s)),
        ("trend", common::trend_example().render(&s)),
    ]
}

fn assert_accessible(name: &str, svg: &str) {
    let elems = parse(svg);
    let root = &elems[0];
    assert_eq!(root.attr("role"), "img", "{name}");
    assert_eq!(root.attr("xmlns"), "http://www.w3.org/2000/svg", "{name}");
    let (w, h) = (root.num("width"), root.num("height"));
    assert_eq!(root.attr("viewBox"), format!("0 0 {w} {h}"), "{name}");
    assert!(root.attr("font-family").contains("sans-serif"), "{name}");
    assert_eq!(
        elems[1].name, "title",
        "{name}: <title> must be the first child"
    );
    assert_eq!(elems[2].name, "desc", "{name}: <desc> must follow <title>");
    assert!(!elems[2].text.is_empty(), "{name}: empty <desc>");
    for bad in ["NaN", "inf"] {
        assert!(!svg.contains(bad), "{name} contains {bad}");
    }
}

#[test]
fn examples_are_well_formed_and_accessible() {
    for (name, svg) in examples() {
        assert_accessible(name, &svg);
    }
}

#[test]
fn rendering_is_deterministic() {
    let a = examples();
    let b = examples();
    assert_eq!(a, b);
}

#[test]
fn empty_input_renders_no_data() {
    for (name, svg) in all_charts(&[]) {
        assert_accessible(name, &svg);
        let elems = parse(&svg);
        assert_eq!(find(&elems, "text", "no-data").len(), 1, "{name}");
        assert!(footnote_text(&elems).is_empty(), "{name}");
    }
}

#[test]
fn all_suppressed_renders_no_data_with_count() {
    for (name, svg) in all_charts(&[None, None, None]) {
        let elems = parse(&svg);
        if name == "spine" {
            // Rows are still listed, with "*" for the suppressed local value.
            assert_eq!(
                find(&elems, "text", "local-value")
                    .iter()
                    .filter(|e| e.text == "*")
                    .count(),
                3
            );
        } else {
            assert_eq!(find(&elems, "text", "no-data").len(), 1, "{name}");
        }
        assert!(
            footnote_text(&elems).contains("3 values suppressed (small numbers)"),
            "{name}"
        );
    }
}

#[test]
fn single_point_and_all_equal_values_render() {
    for values in [
        vec![Some(5.0)],
        vec![Some(2.0); 4],
        vec![Some(0.0); 3],
        vec![Some(-4.0)],
    ] {
        for (name, svg) in all_charts(&values) {
            assert_accessible(name, &svg);
            let elems = parse(&svg);
            assert!(
                find(&elems, "text", "no-data").is_empty(),
                "{name} {values:?}"
            );
        }
    }
}

#[test]
fn non_finite_values_are_missing_not_suppressed() {
    let values = [
        Some(1.0),
        Some(f64::NAN),
        Some(f64::INFINITY),
        Some(f64::NEG_INFINITY),
        Some(2.0),
    ];
    for (name, svg) in all_charts(&values) {
        assert_accessible(name, &svg);
        let notes = footnote_text(&parse(&svg));
        assert!(!notes.contains("suppressed"), "{name}: {notes}");
        assert!(
            notes.contains("3 values not shown (missing or invalid)"),
            "{name}: {notes}"
        );
    }
}

#[test]
fn escaping_of_labels_and_titles() {
    let label = "A&E <4h \"test\" 'x'";
    let mut chart = common::trend_example();
    chart.text.title = label.to_string();
    chart.series[0].name = label.to_string();
    chart.periods[0] = label.to_string();
    let svg = chart.render(&Style::default());
    assert!(svg.contains("A&amp;E &lt;4h &quot;test&quot; &apos;x&apos;"));
    assert!(!svg.contains(label));
    let elems = parse(&svg);
    assert_eq!(elems[1].text, label, "<title> round-trips");
    assert!(find(&elems, "text", "legend-label")
        .iter()
        .any(|e| e.text == label));
    // The funnel example carries the same label on a point tooltip.
    let funnel = parse(&common::funnel_example().render(&Style::default()));
    assert!(funnel
        .iter()
        .any(|e| e.name == "title" && e.text.starts_with("A&E <4h \"test\": 77.5")));
}

#[test]
fn hostile_style_values_are_escaped_and_clamped() {
    let style = Style {
        width: f64::NAN,
        height: -5.0,
        font_family: "\"><script>".into(),
        primary: "red\" onload=\"x".into(),
        ..Style::default()
    };
    let svg = common::funnel_example().render(&style);
    let elems = parse(&svg);
    assert_eq!(elems[0].num("width"), 720.0);
    // Clamped to the 180 px minimum, then grown to keep a 100 px plot.
    let (_, top, _, bottom) = common::plot_rect(&elems);
    assert!(elems[0].num("height") > 180.0);
    assert!(bottom - top >= 100.0 - 0.01);
    assert_eq!(elems[0].attr("font-family"), "\"><script>");
    assert!(!elems.iter().any(|e| e.name == "script"));
}
