//! What a kafkasim user's own test file looks like: a scenario of their system's shape, a fixed
//! seed for CI, a swarm over a seed range, and a snapshot of the trace. `cargo test` runs these
//! (`[[example]] test = true` in Cargo.toml); copy this file into your crate's `tests/`.
//!
//! Run it alone with `cargo test --example user_tests`.

// Built as a program too (`cargo build --examples`), where only `main` is used.
#![cfg_attr(not(test), allow(dead_code))]

use kafkasim::Simulation;

/// Our payment service: three brokers, orders replicated three ways, a consumer group of two that
/// commits after processing, and the broker leading `orders/0` losing power mid-stream.
const PAYMENTS: &str = r#"
name = "payments"
duration_ms = 20000

[cluster]
brokers = 3

[[topic]]
name = "orders"
partitions = 4
replication_factor = 3
min_insync_replicas = 2

[[producer]]
topic = "orders"
rate_per_s = 100
acks = "all"

[[group]]
id = "billing"
topics = ["orders"]
consumers = 2
session_timeout_ms = 6000
heartbeat_interval_ms = 1000

[[fault]]
at_ms = 8000
kind = "crash"
node = "leader:orders/0"
mode = "power_loss"

[[fault]]
at_ms = 12000
kind = "restart"
node = "last_crashed"
"#;

fn payments() -> Simulation {
    Simulation::from_toml("payments.toml", PAYMENTS).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn payments_survive_a_leader_power_loss() {
    payments().run(42).assert_holds();
}

#[test]
fn payments_survive_drawn_faults() {
    // Every seed draws its own faults within the scenario's [swarm] bounds.
    payments().swarm().run_seeds(0..4, 2).assert_all_hold();
}

#[test]
fn a_longer_session_timeout_still_holds() {
    let sim = payments()
        .with(|s| s.groups[0].session_timeout_ms = 10_000)
        .unwrap();
    sim.run(42).assert_holds();
}

#[test]
fn the_trace_is_reproducible() {
    // In your crate: insta::assert_snapshot!(payments().run(42).compact_trace());
    // Here, the same seed gives the same trace, run after run.
    let a = payments().run(42).compact_trace();
    assert_eq!(a, payments().run(42).compact_trace());
    assert!(a.contains("group billing Stable"), "{a}");
}

/// Examples are also built as programs; this one is only tests.
fn main() {
    eprintln!("run these tests with `cargo test --example user_tests`");
}
