//! Golden traces: for every scenario in `scenarios/`, at its own seed, the compact trace (see
//! `src/history/compact.rs`) and the report summary, reviewed as `snapshots/<name>.snap`.
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

fn scenario_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn snapshot_of(path: &Path) -> String {
    let s = load(path).unwrap_or_else(|e| panic!("{e}"));
    let seed = s.spec.seed;
    let rel = format!("scenarios/{}", path.file_name().unwrap().to_string_lossy());
    let o = run_scenario(Arc::new(s), seed, RunOptions { keep_events: true })
        .unwrap_or_else(|p| panic!("{}", p.message));
    let summary = RunReport::new(&rel, &o).human();
    format!("{}\n-- report\n{summary}", compact_trace(&o.history))
}

#[test]
fn every_scenario_matches_its_golden_trace() {
    for path in scenario_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = snapshot_of(&path);
        insta::with_settings!({
            snapshot_path => root().join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("compact trace of scenarios/{name}.toml at its seed"),
        }, {
            insta::assert_snapshot!(name, text);
        });
    }
}

#[test]
fn no_unreferenced_snapshots() {
    let scenarios: Vec<String> = scenario_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for entry in std::fs::read_dir(root().join("snapshots")).unwrap() {
        let p = entry.unwrap().path();
        let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".snap") {
            assert!(
                scenarios.iter().any(|s| s == stem),
                "snapshots/{name} has no scenarios/{stem}.toml: delete it"
            );
        }
    }
}
