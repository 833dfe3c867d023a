//! `fuzz` and `merge` through the binary: failures do not depend on --jobs, shards merged equal
//! the unsharded sweep, every printed reproduce line reproduces its failure, and a correct
//! protocol sweep passes.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn kafkasim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A short scenario whose leader ignores its followers: strong_isr fires on most seeds.
fn broken_scenario(dir: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        r#"
name = "broken"
duration_ms = 4000
[cluster]
brokers = 3
[[topic]]
name = "t"
partitions = 1
replication_factor = 3
min_insync_replicas = 2
[[producer]]
topic = "t"
rate_per_s = 50
[protocol]
hw_ignores_followers = true
[liveness]
bound_ms = 20000
"#,
    )
    .unwrap();
    path
}

fn failures(json: &str) -> Value {
    let v: Value = serde_json::from_str(json).expect("fuzz --json prints one JSON object");
    v["failures"].clone()
}

#[test]
fn failures_do_not_depend_on_jobs_and_shards_merge_to_the_whole() {
    let path = broken_scenario("fuzz-jobs");
    let p = path.to_str().unwrap();
    let out = path.parent().unwrap().join("out");
    let o = out.to_str().unwrap();
    let (c1, one, _) = kafkasim(&[
        "fuzz", p, "--seeds", "0..6", "--jobs", "1", "--json", "--out", o,
    ]);
    let (c2, two, _) = kafkasim(&[
        "fuzz", p, "--seeds", "0..6", "--jobs", "2", "--json", "--out", o,
    ]);
    assert_eq!((c1, c2), (1, 1));
    assert_eq!(failures(&one), failures(&two));
    assert!(failures(&one).as_array().is_some_and(|f| !f.is_empty()));

    let dir = path.parent().unwrap();
    let mut parts = Vec::new();
    for k in 1..=2 {
        let (_, shard, _) = kafkasim(&[
            "fuzz",
            p,
            "--seeds",
            "0..6",
            "--shard",
            &format!("{k}/2"),
            "--json",
            "--out",
            o,
        ]);
        let file = dir.join(format!("shard{k}.json"));
        std::fs::write(&file, shard).unwrap();
        parts.push(file.to_str().unwrap().to_string());
    }
    let (code, merged, _) = kafkasim(&["merge", &parts[0], &parts[1]]);
    assert_eq!(code, 1);
    let merged: Value = serde_json::from_str(&merged).unwrap();
    let whole: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(merged["failures"], whole["failures"]);
    assert_eq!(merged["runs"], whole["runs"]);
    assert_eq!(merged["sim_ms"], whole["sim_ms"]);
}

#[test]
fn every_reproduce_line_reproduces_its_failure() {
    let path = broken_scenario("fuzz-repro");
    let p = path.to_str().unwrap();
    let out = path.parent().unwrap().join("out");
    let (_, json, _) = kafkasim(&[
        "fuzz",
        p,
        "--seeds",
        "0..4",
        "--swarm",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let all = failures(&json);
    assert!(
        all.as_array().is_some_and(|f| !f.is_empty()),
        "the broken protocol fails some seed"
    );
    for f in all.as_array().unwrap() {
        let line = f["reproduce"].as_str().unwrap();
        let args: Vec<&str> = line
            .strip_prefix("cargo run --release -- ")
            .expect("a cargo run line")
            .split(' ')
            .collect();
        let mut with_json = args.clone();
        with_json.push("--json");
        let (code, report, _) = kafkasim(&with_json);
        assert_eq!(code, 1, "{line}");
        let report: Value = serde_json::from_str(&report).unwrap();
        let first = &report["violations"][0]["invariant"];
        assert_eq!(first, &f["invariant"], "{line}");
        let seed = f["seed"].as_u64().unwrap();
        let kept = out
            .join(format!("broken-seed-{seed}-swarm"))
            .join("trace.txt");
        assert!(
            kept.exists(),
            "failing seed's trace kept at {}",
            kept.display()
        );
    }
}

#[test]
fn bad_arguments_exit_2() {
    let (code, _, err) = kafkasim(&["fuzz", "scenarios/basic.toml", "--seeds", "5..2"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = kafkasim(&[
        "fuzz",
        "scenarios/basic.toml",
        "--seeds",
        "0..2",
        "--shard",
        "3/2",
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = kafkasim(&["run", "no/such/file.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no/such/file.toml"));
}
