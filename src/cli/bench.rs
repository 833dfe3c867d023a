//! `kafkasim bench [--json] [--quick] [--scaling]`: the simulator's cost against bare madsim (see
//! `crate::bench`). Build with `--release`: debug figures mean nothing.

use super::CliError;
use crate::bench::{self, BenchPlan, BenchReport};
use std::path::Path;

/// Measures the bench scenarios (scenarios/reference.toml, scenarios/churn.toml) and a bare madsim
/// ping-pong in this one process, and prints their figures and ratios (CONTRACT.md). Run it with
/// `cargo run --release -- bench`; it takes a few minutes.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Print one JSON object (CONTRACT.md's keys) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// A fast smoke version: the scenarios cut to 20 simulated seconds, 2 fuzz seeds. Its figures
    /// are not the bench's.
    #[arg(long)]
    pub quick: bool,
    /// Also run the scaling points (10 brokers; 100/300/1,000 partitions; 20/60/200 consumers).
    #[arg(long)]
    pub scaling: bool,
}

pub fn main(args: BenchArgs) -> Result<u8, CliError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut scenarios = Vec::new();
    for name in ["reference", "churn"] {
        let path = root.join(format!("{name}.toml"));
        let s = crate::scenario::load(&path).map_err(|e| CliError::bad_input(e.to_string()))?;
        let s = if args.quick {
            bench::resized(&s, 20_000).map_err(CliError::bad_input)?
        } else {
            s
        };
        scenarios.push((name.to_string(), s));
    }
    let plan = BenchPlan {
        scenarios,
        fuzz_seeds: if args.quick { 2 } else { 6 },
        fuzz_duration_ms: if args.quick { 5_000 } else { 60_000 },
    };
    let log = |line: &str| eprintln!("bench: {line}");
    let mut report = bench::run(&plan, &log).map_err(internal)?;
    if args.scaling {
        let points: &[(u32, u32)] = if args.quick {
            &[(30, 20)]
        } else {
            &[(100, 20), (300, 20), (1000, 20), (1000, 60), (1000, 200)]
        };
        let duration = if args.quick { 2_000 } else { 20_000 };
        report.scaling = bench::scaling_runs(points, duration, &log).map_err(internal)?;
    }
    if args.json {
        crate::say!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializable")
        );
    } else {
        crate::say_raw!("{}", human(&report));
    }
    Ok(super::EXIT_OK)
}

fn internal(message: String) -> CliError {
    CliError { code: 101, message }
}

/// The report as a table, with the targets of issue 6 beside the figures.
fn human(r: &BenchReport) -> String {
    let b = &r.bare_madsim;
    let mut s = format!(
        "bare madsim ping-pong ({} messages): {:.0} msg/s on 1 thread, {:.0} msg/s on 2 (gain {:.2})\n",
        b.messages,
        b.messages_per_wall_s_1thread,
        b.messages_per_wall_s_2threads,
        b.messages_per_wall_s_2threads / b.messages_per_wall_s_1thread
    );
    for (name, f) in &r.scenarios {
        let mem = f
            .peak_memory_mib
            .map(|m| format!("{m:.1} MiB"))
            .unwrap_or_else(|| "n/a".into());
        s += &format!(
            "{name}: {} simulated ms in {} wall ms ({:.1}x real time), {} messages ({:.0}/simulated s), {} events, {} violations\n\
             \x20 cost per message vs bare madsim {:.2} (target <= 1.5)\n\
             \x20 checker share {:.1}% (target <= 20%)\n\
             \x20 fixed cost per seed {} us\n\
             \x20 fuzz seeds/s: {:.2} with 1 job, {:.2} with 2; gain vs madsim's own {:.2} (target >= 0.9)\n\
             \x20 peak memory {mem} (target <= 64 MiB on reference)\n",
            f.sim_time_ms,
            f.wall_ms,
            f.speedup_vs_real_time,
            f.messages,
            f.messages_per_sim_s,
            f.events,
            f.violations,
            f.cost_per_message_ratio,
            f.checker_share * 100.0,
            f.seed_fixed_cost_us,
            f.fuzz_seeds_per_s_1job,
            f.fuzz_seeds_per_s_2jobs,
            f.parallel_gain_vs_madsim,
        );
    }
    for p in &r.scaling {
        s += &format!(
            "scaling {} brokers x {} partitions x {} consumers: {} simulated ms in {} wall ms, {} messages, {:.2} us/message, peak {:?} MiB, {} violations\n",
            p.brokers, p.partitions, p.consumers, p.sim_time_ms, p.wall_ms, p.messages,
            p.wall_us_per_message, p.peak_memory_mib.map(|m| m.round()), p.violations
        );
    }
    s
}
