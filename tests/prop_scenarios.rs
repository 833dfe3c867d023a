//! Property: for any generated scenario (cluster shape, workload, fault schedule), the correct
//! protocol violates no safety invariant and converges. A few cases in `cargo test`; more with
//! `PROPTEST_CASES=500 cargo test --release --test prop_scenarios`. Failures are kept under
//! `proptest-regressions/` and replayed first on later runs.

use kafkasim::scenario::from_str;
use kafkasim::sim::{run_scenario, RunOptions};
use proptest::prelude::*;
use std::fmt::Write;
use std::sync::Arc;

#[derive(Clone, Debug)]
enum GenFault {
    Crash {
        broker: u32,
        mode: &'static str,
        down_ms: u64,
    },
    Partition {
        broker: u32,
        from_controller_too: bool,
        ms: u64,
    },
    Pause {
        broker: u32,
        ms: u64,
    },
    Drop {
        probability: f64,
        ms: u64,
    },
}

fn fault() -> impl Strategy<Value = (u64, GenFault)> {
    let kind = prop_oneof![
        (
            1u32..=4,
            prop_oneof![Just("clean"), Just("process")],
            10u64..6000
        )
            .prop_map(|(broker, mode, down_ms)| GenFault::Crash {
                broker,
                mode,
                down_ms
            }),
        (1u32..=4, any::<bool>(), 10u64..6000).prop_map(|(broker, from_controller_too, ms)| {
            GenFault::Partition {
                broker,
                from_controller_too,
                ms,
            }
        }),
        (1u32..=4, 10u64..4000).prop_map(|(broker, ms)| GenFault::Pause { broker, ms }),
        (0.05f64..0.8, 10u64..3000)
            .prop_map(|(probability, ms)| GenFault::Drop { probability, ms }),
    ];
    (0u64..9000, kind)
}

#[derive(Clone, Debug)]
struct Gen {
    brokers: u32,
    partitions: u32,
    rf: u32,
    min_isr: u32,
    rate: u32,
    keys: u32,
    acks_all: bool,
    faults: Vec<(u64, GenFault)>,
}

fn scenario() -> impl Strategy<Value = Gen> {
    (
        1u32..=4,
        1u32..=3,
        1u32..=3,
        1u32..=3,
        10u32..300,
        0u32..8,
        any::<bool>(),
        prop::collection::vec(fault(), 0..6),
    )
        .prop_map(
            |(brokers, partitions, rf, min_isr, rate, keys, acks_all, faults)| {
                let rf = rf.min(brokers);
                Gen {
                    brokers,
                    partitions,
                    rf,
                    min_isr: min_isr.min(rf),
                    rate,
                    keys,
                    acks_all,
                    faults,
                }
            },
        )
}

fn to_toml(g: &Gen) -> String {
    let acks = if g.acks_all { "all" } else { "1" };
    let mut t = format!(
        "name = \"generated\"\nduration_ms = 10000\n[cluster]\nbrokers = {}\nreplica_lag_time_max_ms = 3000\n\
         [[topic]]\nname = \"t\"\npartitions = {}\nreplication_factor = {}\nmin_insync_replicas = {}\n\
         [[producer]]\ntopic = \"t\"\nrate_per_s = {}\nkeys = {}\nacks = \"{acks}\"\n[[reader]]\ntopic = \"t\"\n\
         [liveness]\nbound_ms = 60000\n",
        g.brokers, g.partitions, g.rf, g.min_isr, g.rate, g.keys
    );
    for (at, f) in &g.faults {
        let b = |n: &u32| format!("b{}", (n - 1) % g.brokers + 1);
        let _ = match f {
            GenFault::Crash {
                broker,
                mode,
                down_ms,
            } => write!(
                t,
                "[[fault]]\nat_ms = {at}\nkind = \"crash\"\nnode = \"{}\"\nmode = \"{mode}\"\n\
                 [[fault]]\nat_ms = {}\nkind = \"restart\"\nnode = \"{}\"\n",
                b(broker),
                (at + down_ms).min(9999),
                b(broker)
            ),
            GenFault::Partition {
                broker,
                from_controller_too,
                ms,
            } => {
                let others: Vec<String> = (1..=g.brokers)
                    .map(|n| format!("\"b{n}\""))
                    .filter(|n| *n != format!("\"{}\"", b(broker)))
                    .collect();
                let mut other_side = others.join(", ");
                if other_side.is_empty() {
                    // One broker: cut it off from the controller, or from its producer.
                    other_side = if *from_controller_too {
                        "\"controller\"".into()
                    } else {
                        "\"p1\"".into()
                    };
                }
                let lone = if *from_controller_too {
                    format!("\"{}\"", b(broker))
                } else {
                    format!("\"{}\", \"controller\"", b(broker))
                };
                write!(t, "[[fault]]\nat_ms = {at}\nkind = \"partition\"\ngroups = [[{lone}], [{other_side}]]\nduration_ms = {ms}\n")
            }
            GenFault::Pause { broker, ms } => {
                write!(t, "[[fault]]\nat_ms = {at}\nkind = \"pause\"\nnode = \"{}\"\nduration_ms = {ms}\n", b(broker))
            }
            GenFault::Drop { probability, ms } => {
                let all: Vec<String> = (1..=g.brokers).map(|n| format!("\"b{n}\"")).collect();
                let all = all.join(", ");
                write!(t, "[[fault]]\nat_ms = {at}\nkind = \"drop\"\nfrom = [{all}]\nto = [{all}]\nprobability = {probability}\nduration_ms = {ms}\n")
            }
        };
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn correct_protocol_holds_on_generated_scenarios(g in scenario(), seed in 0u64..1000) {
        let text = to_toml(&g);
        let s = from_str("generated.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let o = run_scenario(Arc::new(s), seed, RunOptions::default()).map_err(|p| TestCaseError::fail(p.message))?;
        prop_assert!(o.violations.is_empty(), "seed {}: {:#?}\n{}", seed, o.violations, text);
    }
}
