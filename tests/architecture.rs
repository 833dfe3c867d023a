//! The walls between modules (see `src/lib.rs`), checked on the source text: a module named on
//! the left never refers to a module on the right (`crate::X` anywhere, docs included).
//!
//! - `protocol`, the shared vocabulary, stands on nothing but the hash.
//! - `history` records events; the checkers read it, never the other way round.
//! - The role cores are sans-IO: they never reach the madsim shell, the checkers, the reports
//!   or the command line.

use std::collections::BTreeSet;
use std::path::Path;

const SHELL_AND_ABOVE: &[&str] = &[
    "sim",
    "check",
    "report",
    "cli",
    "fuzz",
    "simulation",
    "bench",
];

fn walls() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        (
            "protocol",
            &[
                "history",
                "check",
                "sim",
                "report",
                "cli",
                "scenario",
                "broker",
                "client",
                "controller",
                "coordinator",
            ],
        ),
        (
            "history",
            &["check", "sim", "report", "cli", "fuzz", "simulation"],
        ),
        ("broker", SHELL_AND_ABOVE),
        ("client", SHELL_AND_ABOVE),
        ("controller", SHELL_AND_ABOVE),
        ("coordinator", SHELL_AND_ABOVE),
        ("assignor", SHELL_AND_ABOVE),
        ("effects.rs", SHELL_AND_ABOVE),
        ("request.rs", SHELL_AND_ABOVE),
        ("timer.rs", SHELL_AND_ABOVE),
    ]
}

/// Every Rust file under `path` (or `path` itself).
fn files(path: &Path) -> Vec<std::path::PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// The top-level modules `text` names as `crate::X`.
fn referenced(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn no_module_reaches_across_its_walls() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut breaches = Vec::new();
    for (module, forbidden) in walls() {
        let path = src.join(module);
        assert!(path.exists(), "src/{module} is gone: update the walls");
        for file in files(&path) {
            let text = std::fs::read_to_string(&file).unwrap();
            for target in referenced(&text) {
                if forbidden.contains(&target.as_str()) {
                    breaches.push(format!("{} refers to crate::{target}", file.display()));
                }
            }
        }
    }
    assert!(breaches.is_empty(), "{breaches:#?}");
}

#[test]
fn the_wall_check_sees_a_breach() {
    let text = "use crate::check::ghost::Ghost;\n/// See [`crate::history::Event`].";
    let seen = referenced(text);
    assert!(
        seen.contains("check") && seen.contains("history"),
        "{seen:?}"
    );
}
