//! Kafka's own assignor tests, replayed: every case under `tests/data/assign/<strategy>/` restates
//! one assertion of an apache/kafka test (named in its `kafka_test` field) and must come out
//! exactly as Kafka's test asserts, both through the library and through `kafkasim assign`.

use kafkasim::assignor::{self, AssignInput, Assignment, Strategy};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Case {
    path: PathBuf,
    strategy: Strategy,
    kafka_test: String,
    input: AssignInput,
    input_json: serde_json::Value,
    /// The exact assignment Kafka's test asserts, or `Err(text)` when it asserts a throw.
    expected: Result<Assignment, String>,
}

fn load_cases(strategy: Strategy) -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/assign")
        .join(strategy.name());
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable case");
            let doc: serde_json::Value = serde_json::from_str(&text).expect("case is JSON");
            let input_json = doc["input"].clone();
            Case {
                strategy,
                kafka_test: doc["kafka_test"].as_str().expect("kafka_test").to_string(),
                input: serde_json::from_value(input_json.clone())
                    .unwrap_or_else(|e| panic!("{}: input: {e}", path.display())),
                expected: match doc["expected_error"].as_str() {
                    Some(text) => Err(text.to_string()),
                    None => Ok(assignor::assignment_from_json(&doc["expected"]).expect("expected")),
                },
                input_json,
                path,
            }
        })
        .collect()
}

/// Runs the built binary on one input; returns (exit code, stdout, stderr).
fn run_cli(strategy: &str, stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["assign", "--strategy", strategy])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kafkasim runs");
    // A verb that fails before reading stdin (unknown strategy) closes the pipe early.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let out = child.wait_with_output().expect("kafkasim exits");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn describe(a: &Assignment) -> String {
    assignor::assignment_to_json(a).to_string()
}

/// Checks every case of `strategy` through the library and the binary; fails listing all misses.
fn check_strategy(strategy: Strategy, min_cases: usize) {
    let cases = load_cases(strategy);
    assert!(
        cases.len() >= min_cases,
        "{strategy}: only {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = format!("{} ({})", case.path.display(), case.kafka_test);
        let actual = assignor::assign(case.strategy, &case.input).map_err(|e| e.to_string());
        let (code, stdout, stderr) = run_cli(strategy.name(), &case.input_json.to_string());
        match &case.expected {
            Ok(expected) => {
                if actual.as_ref() != Ok(expected) {
                    failures.push(format!(
                        "{name}\n  library:  {}\n  expected: {}",
                        actual.map_or_else(|e| e, |a| describe(&a)),
                        describe(expected)
                    ));
                }
                let cli = serde_json::from_str::<serde_json::Value>(&stdout)
                    .ok()
                    .and_then(|v| assignor::assignment_from_json(&v).ok());
                if code != 0 || cli.as_ref() != Some(expected) {
                    failures.push(format!("{name}\n  cli exit {code}: {stdout}{stderr}"));
                }
            }
            Err(needle) => {
                if !actual.as_ref().is_err_and(|e| e.contains(needle.as_str())) {
                    failures.push(format!(
                        "{name}\n  expected an error with `{needle}`, got {actual:?}"
                    ));
                }
                if code != 2 || !stderr.contains(needle.as_str()) {
                    failures.push(format!("{name}\n  cli exit {code}: {stdout}{stderr}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {strategy} cases differ from Kafka:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn range_matches_kafka() {
    check_strategy(Strategy::Range, 8);
}

#[test]
fn roundrobin_matches_kafka() {
    check_strategy(Strategy::RoundRobin, 8);
}

#[test]
fn sticky_matches_kafka() {
    check_strategy(Strategy::Sticky, 8);
}

#[test]
fn cooperative_sticky_matches_kafka() {
    check_strategy(Strategy::CooperativeSticky, 8);
}

#[test]
fn uniform_matches_kafka() {
    check_strategy(Strategy::Uniform, 18);
}

#[test]
fn server_range_matches_kafka() {
    check_strategy(Strategy::ServerRange, 15);
}

#[test]
fn cli_output_lists_every_member_sorted() {
    let input = r#"{"topics": {"b": 2, "a": 1},
        "members": [{"id": "m2", "subscriptions": ["a", "b"]},
                    {"id": "m1", "subscriptions": ["b", "a"]},
                    {"id": "idle", "subscriptions": ["nope"]}]}"#;
    let (code, stdout, stderr) = run_cli("range", input);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        r#"{"idle":[],"m1":[["a",0],["b",0]],"m2":[["b",1]]}"#
    );
}

/// Bad input exits 2 with one message on stderr, never a panic.
#[test]
fn cli_rejects_bad_input_with_exit_2() {
    let ok_members = r#""members": [{"id": "a", "subscriptions": ["t"]}]"#;
    let cases: Vec<(&str, String, &str)> = vec![
        ("range", "{not json".to_string(), "invalid input"),
        ("range", format!(r#"{{"topics": {{"t": 1}}, {ok_members}}} trailing"#), "trailing"),
        ("bogus", format!(r#"{{"topics": {{"t": 1}}, {ok_members}}}"#), "unknown strategy"),
        ("range", r#"{"topics": {"t": -1}, "members": []}"#.to_string(), "topics"),
        ("range", r#"{"topics": {}, "members": [{"id": "a"}]}"#.to_string(), "subscriptions"),
        (
            "range",
            r#"{"topics": {}, "members": [{"id": "a", "subscriptions": [], "owned": [["t"]]}]}"#.to_string(),
            "owned",
        ),
        (
            "range",
            r#"{"topics": {}, "members": [{"id": "a", "subscriptions": []}, {"id": "a", "subscriptions": []}]}"#
                .to_string(),
            "appears twice",
        ),
        // Kafka's sticky assignor throws on an owned partition beyond the topic's count.
        (
            "sticky",
            r#"{"topics": {"t": 2}, "members": [{"id": "a", "subscriptions": ["t"], "owned": [["t", 5]], "generation": 1}]}"#
                .to_string(),
            "has 2 partitions",
        ),
        // Server-side assignors throw on a subscription to a topic that does not exist.
        ("uniform", r#"{"topics": {}, "members": [{"id": "a", "subscriptions": ["t"]}]}"#.to_string(), "does not exist"),
        ("server-range", r#"{"topics": {}, "members": [{"id": "a", "subscriptions": ["t"]}]}"#.to_string(), "does not exist"),
        // A KIP-848 target assignment never has two owners of one partition.
        (
            "uniform",
            r#"{"topics": {"t": 2}, "members": [{"id": "a", "subscriptions": ["t"], "owned": [["t", 0]]},
                {"id": "b", "subscriptions": ["t"], "owned": [["t", 0]]}]}"#
                .to_string(),
            "both assigned",
        ),
    ];
    for (strategy, stdin, needle) in cases {
        let (code, stdout, stderr) = run_cli(strategy, &stdin);
        assert_eq!(
            code, 2,
            "{strategy} {stdin}: exit {code}, stdout {stdout}, stderr {stderr}"
        );
        assert!(stdout.is_empty(), "{strategy} {stdin}: printed {stdout}");
        assert_eq!(stderr.trim().lines().count(), 1, "one message: {stderr}");
        assert!(
            stderr.contains(needle),
            "{strategy} {stdin}: `{needle}` not in {stderr}"
        );
    }
}
