//! Broken scenario files: `check` exits 2 with `file:line:column: field: message`, never panics.
//! Each file in `scenarios/invalid/` has its expected place here, derived by reading the file.

use proptest::prelude::*;
use std::process::Command;

/// (file, line, column, field or "" when the file as a whole is at fault)
const EXPECTED: &[(&str, usize, usize, &str)] = &[
    ("bad-leader-ref.toml", 12, 8, "fault[0].node"),
    ("extra.toml", 9, 15, "fault[0].probability"),
    ("huge.toml", 2, 15, "duration_ms"),
    ("lossy.toml", 6, 8, "network.loss"),
    ("max-poll-records.toml", 13, 20, "group[0].max_poll_records"),
    ("min-isr.toml", 9, 23, "topic[0].min_insync_replicas"),
    ("missing.toml", 1, 1, ""),
    ("negative.toml", 2, 15, "duration_ms"),
    ("node.toml", 8, 8, "fault[0].node"),
    ("one-side.toml", 8, 10, "fault[0].groups"),
    ("retry-backoff.toml", 12, 20, "producer[0].retry_backoff_ms"),
    ("rf.toml", 8, 22, "topic[0].replication_factor"),
    ("stop-before-start.toml", 13, 11, "producer[0].stop_ms"),
    ("swarm-faults.toml", 7, 14, "swarm.max_faults"),
    ("swarm-gap.toml", 7, 14, "swarm.min_gap_ms"),
    ("swarm-kinds.toml", 6, 19, "swarm.kinds[1]"),
    ("syntax.toml", 1, 8, ""),
    ("too-many-records.toml", 9, 1, "producer"),
    ("type.toml", 2, 15, "duration_ms"),
    ("unknown.toml", 5, 1, "cluster.brokerz"),
    ("zero.toml", 4, 11, "cluster.brokers"),
];

fn check(path: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["check", path])
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_invalid_file_is_rejected_with_its_location_and_field() {
    let listed: Vec<String> = std::fs::read_dir("scenarios/invalid")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    assert_eq!(
        listed.len(),
        EXPECTED.len(),
        "every invalid file has an expectation: {listed:?}"
    );
    for (file, line, col, field) in EXPECTED {
        let path = format!("scenarios/invalid/{file}");
        let (code, stderr) = check(&path);
        assert_eq!(code, Some(2), "{path}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        let place = format!("error: {path}:{line}:{col}: ");
        assert!(
            first.starts_with(&place),
            "{path}: expected `{place}`, got `{first}`"
        );
        if !field.is_empty() {
            assert!(
                first.starts_with(&format!("{place}{field}: ")),
                "{path}: field {field} in `{first}`"
            );
        }
    }
}

#[test]
fn unreadable_and_non_utf8_files_are_bad_input() {
    let (code, stderr) = check("scenarios/invalid/does-not-exist.toml");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("does-not-exist.toml"));
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("binary.toml");
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let (code, stderr) = check(path.to_str().unwrap());
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(":1:1: the file is not valid UTF-8"),
        "{stderr}"
    );
}

#[test]
fn the_shipped_scenarios_are_valid() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let (code, stderr) = check(p.to_str().unwrap());
            assert_eq!(code, Some(0), "{}: {stderr}", p.display());
        }
    }
}

fn valid_text() -> String {
    std::fs::read_to_string("scenarios/chaos.toml").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Mutated scenario text never panics the loader, and every error is located.
    #[test]
    fn mutations_never_panic_and_errors_are_located(cut in 0usize..4000, pos in 0usize..4000, byte in any::<u8>(), digits in "[0-9]{1,25}") {
        let text = valid_text();
        let mut variants = vec![text[..cut.min(text.len())].to_string()];
        let mut bytes = text.clone().into_bytes();
        let i = pos.min(bytes.len().saturating_sub(1));
        bytes[i] = byte;
        variants.push(String::from_utf8_lossy(&bytes).into_owned());
        variants.push(text.replacen("4000", &digits, 1).replacen("= 4", &format!("= {digits}"), 1));
        for v in variants {
            if let Err(e) = kafkasim::scenario::from_str("mutated.toml", &v) {
                prop_assert!(e.line.is_some() && e.column.is_some(), "unlocated: {e}");
                prop_assert!(e.to_string().starts_with("error: mutated.toml:"), "{e}");
            }
        }
    }
}
