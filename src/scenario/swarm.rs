//! Swarm mode: the seed draws the whole fault profile within the scenario's `[swarm]` bounds.
//!
//! First the seed picks which fault kinds are on at all (each with probability 1/2, at least
//! one), how many faults, how dense (the mean gap), then each fault: its time, kind, target (a
//! fixed node or "whoever leads partition X then"), crash mode, partition shape (symmetric split
//! or one-way), duration. Every crash is followed by a restart within the bound, so the cluster
//! can converge. The result is an ordinary scenario: it is printed with failures and can be
//! written out and run like any other.
//!
//! `validate::swarm` bounds `[swarm]` so that every draw is valid again: at most half of
//! `MAX_FAULTS` faults (each crash brings its restart), gaps and durations within a day; the
//! arithmetic here saturates besides.

use super::load::{from_str, ValidScenario};
use super::model::{CrashMode, FaultKind, FaultSpec, Scenario};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The scenario `base` with its faults replaced by those seed `seed` draws.
pub fn apply(base: &ValidScenario, seed: u64) -> ValidScenario {
    let mut rng = crate::sim::rng::stream(seed, "swarm", 0);
    let mut spec = base.spec.clone();
    spec.faults = draw_faults(&spec, &mut rng);
    let text = toml::to_string(&spec).expect("a scenario always serializes");
    // The drawn faults only name nodes and partitions of this scenario, so it stays valid.
    let mut v = from_str(&base.path, &text)
        .unwrap_or_else(|e| panic!("swarm drew an invalid scenario: {e}"));
    v.path = base.path.clone();
    v
}

/// The drawn schedule as TOML `[[fault]]` tables, for printing with a failure.
pub fn describe(v: &ValidScenario) -> String {
    #[derive(serde::Serialize)]
    struct Faults<'a> {
        fault: &'a [FaultSpec],
    }
    toml::to_string(&Faults {
        fault: &v.spec.faults,
    })
    .unwrap_or_default()
}

fn nodes(spec: &Scenario, rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut all: Vec<String> = (1..=spec.cluster.brokers)
        .map(|b| format!("b{b}"))
        .collect();
    if spec.swarm.include_controller && rng.gen_bool(0.5) {
        all.push("controller".into());
    }
    all
}

/// A fixed broker, or (half the time) the leader of a random partition when the fault fires;
/// in scenarios with groups, sometimes a consumer.
fn target(spec: &Scenario, rng: &mut ChaCha8Rng, allow_controller: bool) -> String {
    if allow_controller && spec.swarm.include_controller && rng.gen_ratio(1, 8) {
        return "controller".into();
    }
    let consumers: u32 = spec.groups.iter().map(|g| g.consumers).sum();
    if consumers > 0 && rng.gen_ratio(1, 3) {
        return format!("c{}", rng.gen_range(1..=consumers));
    }
    if !spec.topics.is_empty() && rng.gen_bool(0.5) {
        let t = spec.topics.choose(rng).expect("non-empty");
        return format!("leader:{}/{}", t.name, rng.gen_range(0..t.partitions));
    }
    format!("b{}", rng.gen_range(1..=spec.cluster.brokers))
}

fn draw_faults(spec: &Scenario, rng: &mut ChaCha8Rng) -> Vec<FaultSpec> {
    let sw = &spec.swarm;
    let mut available = sw.kinds.clone();
    if !spec.groups.is_empty() && !available.contains(&FaultKind::SlowPoll) {
        available.push(FaultKind::SlowPoll);
    }
    let mut kinds: Vec<FaultKind> = available
        .iter()
        .copied()
        .filter(|_| rng.gen_bool(0.5))
        .collect();
    if kinds.is_empty() {
        if let Some(k) = available.choose(rng) {
            kinds.push(*k);
        }
    }
    let count = rng.gen_range(0..=sw.max_faults);
    // The last millisecond a fault may fire at (`at_ms < duration_ms`).
    let horizon = spec.duration_ms.saturating_sub(1);
    // Dense or sparse, per seed: the mean gap between faults.
    let mean_gap = (horizon / (u64::from(count) + 1)).max(sw.min_gap_ms.max(1));
    let mean_gap = if rng.gen_bool(0.3) {
        sw.min_gap_ms.max(1).saturating_mul(rng.gen_range(1..=10))
    } else {
        mean_gap
    };
    let min_isr = spec
        .topics
        .iter()
        .map(|t| t.min_insync_replicas)
        .min()
        .unwrap_or(1);
    let mut budget = Budget {
        power_losses: sw.max_power_losses.unwrap_or(min_isr.saturating_sub(1)),
        down_until: 0,
        last_target: None,
    };
    let mut faults = Vec::new();
    let mut t = rng.gen_range(0..mean_gap.min(horizon).max(1));
    for _ in 0..count {
        if t >= horizon || kinds.is_empty() {
            break;
        }
        let kind = *kinds.choose(rng).expect("non-empty");
        faults.extend(draw_one(spec, rng, kind, t, horizon, &mut budget));
        t = t
            .saturating_add(sw.min_gap_ms)
            .saturating_add(rng.gen_range(0..=mean_gap.saturating_mul(2)));
    }
    faults.sort_by_key(|f| f.at_ms);
    faults
}

/// What the schedule may still spend: lossy crashes, and one crashed node at a time (so that
/// `last_crashed` always names the node each restart is for).
struct Budget {
    power_losses: u32,
    down_until: u64,
    /// The node the last node fault (or leader isolation) aimed at: faults pile up on one node
    /// half the time (isolated, then crashed; paused, then slow), as real incidents do.
    last_target: Option<String>,
}

impl Budget {
    /// The last target again (half the time), else a fresh one; remembered for the next fault.
    fn target(&mut self, spec: &Scenario, rng: &mut ChaCha8Rng) -> String {
        let node = match self.last_target.take() {
            Some(last) if rng.gen_bool(0.5) => last,
            _ => target(spec, rng, true),
        };
        self.last_target = Some(node.clone());
        node
    }
}

fn draw_one(
    spec: &Scenario,
    rng: &mut ChaCha8Rng,
    kind: FaultKind,
    at_ms: u64,
    horizon: u64,
    budget: &mut Budget,
) -> Vec<FaultSpec> {
    let sw = &spec.swarm;
    let max_d = sw.max_fault_duration_ms.max(1);
    let duration = rng.gen_range(1..=max_d);
    let base = FaultSpec {
        at_ms,
        kind,
        ..FaultSpec::default()
    };
    match kind {
        FaultKind::Crash => {
            if at_ms < budget.down_until {
                return vec![];
            }
            let modes: Vec<CrashMode> = sw
                .crash_modes
                .iter()
                .copied()
                .filter(|m| *m != CrashMode::PowerLoss || budget.power_losses > 0)
                .collect();
            let Some(mode) = modes.choose(rng).copied() else {
                return vec![];
            };
            if mode == CrashMode::PowerLoss {
                budget.power_losses -= 1;
            }
            let node = budget.target(spec, rng);
            let crash = FaultSpec {
                node: Some(node),
                mode: Some(mode),
                ..base
            };
            let back = (at_ms + rng.gen_range(1..=max_d)).min(horizon);
            budget.down_until = back + 1;
            let restart = FaultSpec {
                at_ms: back,
                kind: FaultKind::Restart,
                node: Some("last_crashed".into()),
                ..FaultSpec::default()
            };
            vec![crash, restart]
        }
        FaultKind::Partition if !spec.topics.is_empty() && rng.gen_ratio(1, 3) => {
            isolate_leader(spec, rng, duration, base, budget)
        }
        FaultKind::Partition => {
            let mut all = nodes(spec, rng);
            all.shuffle(rng);
            let cut = rng.gen_range(1..all.len().max(2)).min(all.len());
            let (a, b) = all.split_at(cut);
            if b.is_empty() {
                return vec![];
            }
            if rng.gen_bool(0.3) {
                vec![FaultSpec {
                    from: Some(a.to_vec()),
                    to: Some(b.to_vec()),
                    duration_ms: Some(duration),
                    ..base
                }]
            } else {
                vec![FaultSpec {
                    groups: Some(vec![a.to_vec(), b.to_vec()]),
                    duration_ms: Some(duration),
                    ..base
                }]
            }
        }
        FaultKind::Pause => vec![FaultSpec {
            node: Some(budget.target(spec, rng)),
            duration_ms: Some(duration),
            ..base
        }],
        FaultKind::Slow => vec![FaultSpec {
            node: Some(budget.target(spec, rng)),
            extra_latency_ms: Some(rng.gen_range(1..=500)),
            duration_ms: Some(duration),
            ..base
        }],
        FaultKind::Drop | FaultKind::Delay => {
            let all = nodes(spec, rng);
            let from: Vec<String> = all.iter().filter(|_| rng.gen_bool(0.5)).cloned().collect();
            let to: Vec<String> = all.iter().filter(|_| rng.gen_bool(0.5)).cloned().collect();
            if from.is_empty() || to.is_empty() {
                return vec![];
            }
            let mut f = FaultSpec {
                from: Some(from),
                to: Some(to),
                duration_ms: Some(duration),
                ..base
            };
            if kind == FaultKind::Drop {
                f.probability = Some(rng.gen_range(0.05..=1.0));
            } else {
                f.extra_latency_ms = Some(rng.gen_range(1..=2000));
            }
            vec![f]
        }
        FaultKind::SlowPoll => {
            let consumers: u32 = spec.groups.iter().map(|g| g.consumers).sum();
            if consumers == 0 {
                return vec![];
            }
            let node = format!("c{}", rng.gen_range(1..=consumers));
            vec![FaultSpec {
                node: Some(node),
                duration_ms: Some(duration),
                ..base
            }]
        }
        FaultKind::Heal | FaultKind::Restart => vec![],
    }
}

/// Cuts whoever leads a random partition (when the fault fires) off from every other broker,
/// both ways, while it still reaches the controller and the clients: the leader shrinks the ISR
/// to itself and goes on taking writes (a failed switch between racks).
fn isolate_leader(
    spec: &Scenario,
    rng: &mut ChaCha8Rng,
    duration: u64,
    base: FaultSpec,
    budget: &mut Budget,
) -> Vec<FaultSpec> {
    let t = spec.topics.choose(rng).expect("non-empty");
    let leader = vec![format!(
        "leader:{}/{}",
        t.name,
        rng.gen_range(0..t.partitions)
    )];
    // Striking the isolated leader next is what turns the cut into lost writes.
    budget.last_target = Some(leader[0].clone());
    let brokers: Vec<String> = (1..=spec.cluster.brokers)
        .map(|b| format!("b{b}"))
        .collect();
    let one_way = |from: &[String], to: &[String]| FaultSpec {
        from: Some(from.to_vec()),
        to: Some(to.to_vec()),
        duration_ms: Some(duration),
        ..base.clone()
    };
    vec![one_way(&leader, &brokers), one_way(&brokers, &leader)]
}
