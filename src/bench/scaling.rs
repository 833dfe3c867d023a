//! The scaling run: how the cost grows with partitions and consumers, up to 10 brokers × 1,000
//! partitions × 200 consumers. Each point is a generated scenario (one topic, replication 3,
//! 1,000 records/s, groups of 20 consumers, no faults) run for a short simulated time.

use super::memory;
use crate::scenario::from_str;
use crate::sim::{run_scenario, RunOptions};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// One point of the scaling run.
#[derive(Clone, Debug, Serialize)]
pub struct ScalingPoint {
    pub brokers: u32,
    pub partitions: u32,
    pub consumers: u32,
    pub sim_time_ms: u64,
    pub wall_ms: u64,
    pub messages: u64,
    pub events: u64,
    pub wall_us_per_message: f64,
    pub peak_memory_mib: Option<f64>,
    pub violations: usize,
}

/// The generated scenario for one point.
fn scenario_text(brokers: u32, partitions: u32, consumers: u32, duration_ms: u64) -> String {
    let mut text = format!(
        r#"name = "scaling-{partitions}p-{consumers}c"
duration_ms = {duration_ms}

[cluster]
brokers = {brokers}
offsets_topic_num_partitions = 10

[[topic]]
name = "events"
partitions = {partitions}
replication_factor = 3
min_insync_replicas = 2

[[producer]]
topic = "events"
rate_per_s = 1000
keys = 10000

[liveness]
bound_ms = 30000
"#
    );
    for g in 0..consumers.div_ceil(20) {
        let n = (consumers - g * 20).min(20);
        text.push_str(&format!(
            "\n[[group]]\nid = \"g{g}\"\ntopics = [\"events\"]\nconsumers = {n}\n"
        ));
    }
    text
}

/// Runs the points (partitions, consumers) on 10 brokers for `duration_ms` simulated each.
pub fn scaling_runs(
    points: &[(u32, u32)],
    duration_ms: u64,
    log: &dyn Fn(&str),
) -> Result<Vec<ScalingPoint>, String> {
    let brokers = 10;
    let mut out = Vec::new();
    for &(partitions, consumers) in points {
        log(&format!(
            "scaling: {brokers} brokers, {partitions} partitions, {consumers} consumers"
        ));
        let text = scenario_text(brokers, partitions, consumers, duration_ms);
        let scenario = from_str("scaling.toml", &text).map_err(|e| e.to_string())?;
        memory::reset_peak();
        let started = Instant::now();
        let o = run_scenario(Arc::new(scenario), 1, RunOptions::default())
            .map_err(|p| format!("kafkasim bug: the simulation panicked: {}", p.message))?;
        let wall = started.elapsed();
        out.push(ScalingPoint {
            brokers,
            partitions,
            consumers,
            sim_time_ms: o.sim_time_ms,
            wall_ms: wall.as_millis() as u64,
            messages: o.messages,
            events: o.events,
            wall_us_per_message: wall.as_secs_f64() * 1e6 / o.messages.max(1) as f64,
            peak_memory_mib: memory::peak_mib(),
            violations: o.violations.len(),
        });
    }
    Ok(out)
}
