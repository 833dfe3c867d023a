//! Golden traces: for every scenario in `scenarios/` and `scenarios/bugs/`, at its own seed, the
//! compact trace (see `src/history/compact.rs`) and the report summary, reviewed as
//! `snapshots/<name>.snap` (`bugs-<name>.snap` for the bug catalogue).
//!
//! Update after an intended change with `cargo insta review` (or `INSTA_UPDATE=always cargo
//! test --test snapshots`). Under `CI=true` insta only compares, never writes. A snapshot whose
//! scenario no longer exists fails `no_unreferenced_snapshots`.

use kafkasim::history::compact::compact_trace;
use kafkasim::report::RunReport;
use kafkasim::scenario::load;
use kafkasim::sim::{run_scenario, RunOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario of `scenarios/` and `scenarios/bugs/` (not the invalid ones).
fn scenario_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["scenarios", "scenarios/bugs"] {
        v.extend(
            std::fs::read_dir(root().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                // The bench's long scenarios are measured by `kafkasim bench`, in release.
                .filter(|p| {
                    !["reference.toml", "churn.toml"]
                        .iter()
                        .any(|b| p.ends_with(b))
                }),
        );
    }
    v.sort();
    v
}

/// `basic` for scenarios/basic.toml, `bugs-unclean-election` for scenarios/bugs/….
fn snapshot_name(path: &Path) -> String {
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    match path
        .parent()
        .and_then(|p| p.file_name())
        .map(|d| d.to_string_lossy().into_owned())
    {
        Some(d) if d != "scenarios" => format!("{d}-{stem}"),
        _ => stem,
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn snapshot_of(path: &Path) -> String {
    let s = load(path).unwrap_or_else(|e| panic!("{e}"));
    let seed = s.spec.seed;
    let o = run_scenario(Arc::new(s), seed, RunOptions::keeping_events())
        .unwrap_or_else(|p| panic!("{}", p.message));
    let summary = RunReport::new(&relative(path), &o).human();
    format!("{}\n-- report\n{summary}", compact_trace(&o.history))
}

#[test]
fn every_scenario_matches_its_golden_trace() {
    for path in scenario_files() {
        let name = snapshot_name(&path);
        let text = snapshot_of(&path);
        insta::with_settings!({
            snapshot_path => root().join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("compact trace of {} at its seed", relative(&path)),
        }, {
            insta::assert_snapshot!(name, text);
        });
    }
}

#[test]
fn no_unreferenced_snapshots() {
    let scenarios: Vec<String> = scenario_files().iter().map(|p| snapshot_name(p)).collect();
    for entry in std::fs::read_dir(root().join("snapshots")).unwrap() {
        let p = entry.unwrap().path();
        let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".snap") {
            assert!(
                scenarios.iter().any(|s| s == stem),
                "snapshots/{name} has no scenario: delete it"
            );
        }
    }
}
