//! The walls between modules (see `src/lib.rs`), checked on the source text: a module named on
//! the left never refers to a module on the right (`crate::X` anywhere, docs included).
//!
//! - `protocol`, the shared vocabulary, stands on nothing but the hash, and `config`, Kafka's
//!   configuration by role, on nothing at all (allow-lists: a new module is outside by default).
//! - `history` records events; the checkers read it, never the other way round.
//! - The role cores are sans-IO: they never reach the madsim shell, the checkers, the reports
//!   or the command line, nor the scenario file (they take `config`).

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
    "scenario",
];

/// Modules that may refer to the listed modules only (besides themselves).
fn allow_lists() -> Vec<(&'static str, &'static [&'static str])> {
    vec![("protocol", &["fnv"]), ("config", &[])]
}

fn walls() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        (
            "history",
            &[
                "check",
                "sim",
                "report",
                "cli",
                "fuzz",
                "simulation",
                "scenario",
            ],
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

/// The top-level modules `text` names as `crate::X`, or inside `crate::{X, Y::Z, ..}`.
fn referenced(text: &str) -> BTreeSet<String> {
    let name = |t: &str| -> String {
        t.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, m) in text.match_indices("crate::") {
        let rest = &text[i + m.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: split at commas outside nested braces.
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(name(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(name(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(name(rest));
        }
    }
    out.remove("");
    out
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
    for (module, allowed) in allow_lists() {
        let path = src.join(module);
        assert!(
            path.exists(),
            "src/{module} is gone: update the allow-lists"
        );
        for file in files(&path) {
            let text = std::fs::read_to_string(&file).unwrap();
            for target in referenced(&text) {
                if target != module && !allowed.contains(&target.as_str()) {
                    breaches.push(format!(
                        "{} refers to crate::{target} (allowed: {allowed:?})",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(breaches.is_empty(), "{breaches:#?}");
}

#[test]
fn the_wall_check_sees_a_breach() {
    let text = "use crate::check::ghost::Ghost;\n/// See [`crate::history::Event`].\n\
                use crate::{sim::World, scenario::{A, B}, fuzz};";
    let seen = referenced(text);
    let want = ["check", "fuzz", "history", "scenario", "sim"];
    assert_eq!(
        seen,
        want.iter().map(|s| s.to_string()).collect(),
        "{seen:?}"
    );
}
