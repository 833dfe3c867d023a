//! `kafkasim bench --quick --json` end to end: CONTRACT.md's keys for both scenarios and bare
//! madsim, with figures that are measurements (positive, finite) of runs that held every
//! invariant. The figures themselves are never compared with targets here (noisy machines).

use std::process::Command;

const SCENARIO_KEYS: [&str; 12] = [
    "sim_time_ms",
    "wall_ms",
    "messages",
    "messages_per_sim_s",
    "speedup_vs_real_time",
    "cost_per_message_ratio",
    "checker_share",
    "seed_fixed_cost_us",
    "fuzz_seeds_per_s_1job",
    "fuzz_seeds_per_s_2jobs",
    "parallel_gain_vs_madsim",
    "peak_memory_mib",
];

#[test]
fn quick_bench_reports_every_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["bench", "--quick", "--json", "--scaling"])
        .output()
        .expect("kafkasim runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for name in ["reference", "churn"] {
        let s = &report["scenarios"][name];
        for key in SCENARIO_KEYS {
            let v = s[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}.{key}: {s}"));
            assert!(v.is_finite() && v >= 0.0, "{name}.{key} = {v}");
        }
        for key in [
            "messages",
            "wall_ms",
            "sim_time_ms",
            "cost_per_message_ratio",
        ] {
            assert!(
                s[key].as_f64().unwrap() > 0.0,
                "{name}.{key} is a measurement"
            );
        }
        assert!(
            s["checker_share"].as_f64().unwrap() < 1.0,
            "a share of the wall time"
        );
        assert_eq!(s["violations"], 0, "{name}: the bench scenario holds");
    }
    for key in [
        "messages_per_wall_s_1thread",
        "messages_per_wall_s_2threads",
    ] {
        assert!(report["bare_madsim"][key].as_f64().unwrap() > 0.0, "{key}");
    }
    let scaling = report["scaling"].as_array().expect("scaling points");
    assert!(!scaling.is_empty());
    assert_eq!(scaling[0]["violations"], 0);
}
