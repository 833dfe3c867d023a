//! `kafkasim timeline`: one run pictured on the simulated time axis as a single self-contained
//! HTML file (inline CSS, SVG and script; nothing fetched), so that a failing seed can be looked
//! at rather than read as fifty thousand trace lines.
//!
//! * [`model`] folds the events into intervals, merged series and markers (pure, tested);
//! * [`faults`] pairs the fault injector's begin and end notes into windows;
//! * [`svg`] lays the lanes out and draws them; [`html`] wraps them in the page.
//!
//! The output is a function of the run alone (no wall clock, no hash order): the same scenario
//! and seed give byte-identical files.

pub mod faults;
pub mod html;
pub mod model;
pub mod svg;

use crate::sim::RunOutcome;
use std::fmt::Write;
use svg::{Svg, BASE_W, NAMES_W};

/// Renders a run (kept with `keep_events`) as a complete HTML page.
pub fn render(outcome: &RunOutcome, scenario_name: &str) -> String {
    let t = model::build(
        &outcome.history,
        &outcome.violations,
        outcome.sim_time_ms * 1000,
    );
    let mut s = Svg::new(&t);
    s.header();
    for (name, g) in &t.groups {
        s.group(name, g);
    }
    let (internal, user): (Vec<_>, Vec<_>) = t
        .partitions
        .iter()
        .partition(|(tp, _)| tp.topic.starts_with("__"));
    for (tp, p) in user.into_iter().chain(internal) {
        s.partition(tp, p);
    }
    let backdrop = s.backdrop();
    let h = s.y + 4;
    let names = format!(
        r#"<svg id="names" width="{NAMES_W}" height="{h}">{}</svg>"#,
        s.names
    );
    let mut chart = String::new();
    let _ = write!(
        chart,
        r#"<svg id="chart" width="{}" height="{h}" data-basew="{BASE_W}" data-endus="{}"><g id="plot">{backdrop}{}</g><g id="axis">{}</g><g id="overlay">{}</g></svg>"#,
        BASE_W + 40.0,
        t.end_us,
        s.plot,
        static_axis(&s, t.end_us, h),
        s.overlay
    );
    let verdict = if outcome.violations.is_empty() {
        "every invariant held".to_string()
    } else {
        format!("{} violation(s)", outcome.violations.len())
    };
    let subtitle = format!(
        "seed {}, {} simulated ms, {} events, trace {}: {verdict}",
        outcome.seed,
        outcome.sim_time_ms,
        outcome.history.len(),
        outcome.trace_hash
    );
    html::page(
        &t,
        &format!("kafkasim timeline: {scenario_name}"),
        &subtitle,
        &names,
        &chart,
    )
}

/// Axis ticks for readers without the script (the script redraws them on every zoom).
fn static_axis(s: &Svg, end_us: u64, h: u32) -> String {
    let steps = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200].map(|x| x * 1_000_000u64);
    let step = steps
        .iter()
        .copied()
        .find(|st| s.x(*st) >= 70.0)
        .unwrap_or(steps[steps.len() - 1]);
    let mut out = String::new();
    for t in (0..=end_us).step_by(step as usize) {
        let x = s.x(t);
        let _ = write!(
            out,
            r#"<g class="tick"><line x1="{x:.2}" x2="{x:.2}" y1="14" y2="{h}"/><text x="{:.2}" y="12">{}s</text></g>"#,
            x + 2.0,
            t / 1_000_000
        );
    }
    out
}
