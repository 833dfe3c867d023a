//! `kafkasim script` end to end, through the built binary: every script in `scenarios/scripts/`
//! passes; a wrong expectation exits 1 with the actual response; malformed scripts exit 2 with a
//! located message, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kafkasim_script(file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .arg("script")
        .arg(file)
        .output()
        .expect("run kafkasim")
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/scripts")
}

/// Writes `text` to a fresh temporary file named `name`.
fn temp_script(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kafkasim-script-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_scenario_script_passes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scripts_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "toml")
            )
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected at least 20 scripts, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let out = kafkasim_script(f);
        let last = stdout(&out).lines().last().unwrap_or("").to_string();
        let summary: serde_json::Value = serde_json::from_str(&last).unwrap_or_default();
        if out.status.code() != Some(0) || summary["failed"] != 0 {
            failures.push(format!(
                "{}: exit {:?}\n{}{}",
                f.display(),
                out.status.code(),
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const ONE_JOIN: &str = r#"{
  "config": {"group.min.session.timeout.ms": 10, "group.initial.rebalance.delay.ms": 50},
  "defaults": {"group_id": "g", "session_timeout_ms": 500, "rebalance_timeout_ms": 500,
               "protocols": [["range", ""]], "require_known_member_id": false},
  "steps": [
    {"id": "j", "at_ms": 0, "member": "A", "request": "JoinGroup", "args": {}, "expect": "pending"},
    {"at_ms": 50, "check": "response", "of": "j", "expect": {"error": "NONE", "generation_id": EXPECTED}}
  ]
}"#;

#[test]
fn wrong_expectation_exits_1_with_the_actual_response() {
    let ok = temp_script("right.json", &ONE_JOIN.replace("EXPECTED", "1"));
    let out = kafkasim_script(&ok);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    let wrong = temp_script("wrong.json", &ONE_JOIN.replace("EXPECTED", "7"));
    let out = kafkasim_script(&wrong);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(
        lines[1]["actual"]["generation_id"], 1,
        "the actual response is printed"
    );
    assert_eq!(lines[1]["actual"]["error"], "NONE");
    assert_eq!(lines[2], serde_json::json!({"steps": 2, "failed": 1}));
}

#[test]
fn a_pending_expectation_that_is_answered_fails() {
    let text = ONE_JOIN
        .replace(
            "\"expect\": \"pending\"",
            "\"expect\": {\"error\": \"NONE\"}",
        )
        .replace("EXPECTED", "1");
    let out = kafkasim_script(&temp_script("not-answered.json", &text));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(r#""actual": "pending""#),
        "{}",
        stdout(&out)
    );
}

fn assert_bad_input(name: &str, text: &str, needles: &[&str]) {
    let path = temp_script(name, text);
    let out = kafkasim_script(&path);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{name}: stdout {} stderr {err}",
        stdout(&out)
    );
    assert!(
        err.contains(&path.display().to_string()),
        "{name}: file not named: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "{name}: `{n}` missing from: {err}");
    }
}

#[test]
fn malformed_scripts_exit_2_with_a_located_message() {
    assert_bad_input(
        "syntax.json",
        "{\"steps\": [\n  {\"at_ms\": 0,, }]}",
        &[":2:"],
    );
    assert_bad_input(
        "type.json",
        r#"{"steps": [{"at_ms": "soon", "check": "group"}]}"#,
        &["steps[0].at_ms"],
    );
    assert_bad_input(
        "unknown-request.json",
        r#"{"steps": [{"at_ms": 0, "member": "A", "request": "Join"}]}"#,
        &["steps[0].request", "Join"],
    );
    assert_bad_input(
        "bad-arg.json",
        r#"{"defaults": {"group_id": "g"}, "steps": [
            {"at_ms": 0, "member": "A", "request": "OffsetCommit",
             "args": {"offsets": [["t", 0, "x", null, ""]]}}]}"#,
        &["steps[0].args.offsets[0][2]"],
    );
    assert_bad_input(
        "time-goes-back.json",
        r#"{"defaults": {"group_id": "g"}, "steps": [
            {"at_ms": 5, "check": "group"}, {"at_ms": 4, "check": "group"}]}"#,
        &["steps[1].at_ms"],
    );
    assert_bad_input(
        "dangling-of.json",
        r#"{"steps": [{"at_ms": 0, "check": "response", "of": "nope"}]}"#,
        &["steps[0].of", "nope"],
    );
    assert_bad_input(
        "consumer.json",
        r#"{"protocol": "consumer", "steps": []}"#,
        &["unsupported protocol"],
    );
    assert_bad_input(
        "unknown-config.json",
        r#"{"config": {"group.max.sise": 3}, "steps": []}"#,
        &["config.group.max.sise"],
    );
    assert_bad_input("script.yaml", "steps: []", &[".json or .toml"]);
}

#[test]
fn toml_scripts_run_and_toml_errors_give_line_and_column() {
    let good = r#"
[config]
"group.min.session.timeout.ms" = 10
"group.initial.rebalance.delay.ms" = 50

[defaults]
group_id = "g"
session_timeout_ms = 500
rebalance_timeout_ms = 500
protocols = [["range", ""]]
require_known_member_id = false

[[steps]]
id = "j"
at_ms = 0
member = "A"
request = "JoinGroup"
expect = "pending"

[[steps]]
at_ms = 50
check = "response"
of = "j"
expect = { error = "NONE", generation_id = 1, member_id = "$A" }
"#;
    let out = kafkasim_script(&temp_script("good.toml", good));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    let bad = good.replace("at_ms = 50", "at_ms = \"later\"");
    assert_bad_input("bad.toml", &bad, &[":21:"]);
}
