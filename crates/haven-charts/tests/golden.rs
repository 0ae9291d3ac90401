//! Golden files: each example chart must render byte-for-byte as checked
//! in under `tests/golden/`. Run with `UPDATE_GOLDEN=1` to rewrite them
//! after an intended change, then review the diff.

mod common;

use haven_charts::Style;
use std::path::PathBuf;

fn check(name: &str, svg: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.svg"));
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&path, svg).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != svg {
        let line = expected
            .lines()
            .zip(svg.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(svg.lines().count()));
        panic!(
            "{name}.svg differs from the golden file at line {}:\n expected: {:?}\n   actual: {:?}\nrun with UPDATE_GOLDEN=1 to accept",
            line + 1,
            expected.lines().nth(line),
            svg.lines().nth(line)
        );
    }
}

#[test]
fn funnel_plot_golden() {
    check(
        "funnel",
        &common::funnel_example().render(&Style::default()),
    );
}

#[test]
fn spc_chart_golden() {
    check("spc", &common::spc_example().render(&Style::default()));
}

#[test]
fn spine_chart_golden() {
    check("spine", &common::spine_example().render(&Style::default()));
}

#[test]
fn inequality_chart_golden() {
    check(
        "inequality",
        &common::inequality_example().render(&Style::default()),
    );
}

#[test]
fn trend_chart_golden() {
    check("trend", &common::trend_example().render(&Style::default()));
}

#[test]
fn no_data_golden() {
    let empty = haven_charts::TrendChart {
        text: haven_charts::ChartText::new("Nothing yet"),
        ..Default::default()
    };
    check("no_data", &empty.render(&Style::default()));
}
