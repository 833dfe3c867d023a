//! **Convergence** after the faults heal (L1, TigerBeetle's liveness mode): every partition has
//! a running leader; every replica is back in the ISR, holds the leader's whole log and knows the
//! final high watermark (= the leader's log end offset); every batch a producer sent has an
//! outcome; every reader has read up to the high watermark.
//!
//! The run polls [`converged`] during the liveness phase and reports a liveness violation if the
//! cluster is not converged within the scenario's bound.

use super::ghost::Ghost;
pub use crate::history::json::Expectations;
use crate::protocol::{NodeId, TopicPartition};

pub const NAME: &str = "replication_converges";

/// `Ok` when converged, else the first thing still missing.
pub fn converged(ghost: &Ghost, expect: &Expectations) -> Result<(), String> {
    for (tp, state) in &ghost.controller {
        let Some(leader) = ghost.true_leader(tp) else {
            return Err(format!(
                "{tp} has no running leader (controller says {:?})",
                state.leader
            ));
        };
        if state.isr.len() != state.replicas.len() {
            return Err(format!(
                "{tp}: ISR {:?} is missing replicas of {:?}",
                state.isr, state.replicas
            ));
        }
        let l = ghost.replica(tp, leader).expect("leader replica");
        let leo = l.log_end();
        for b in &state.replicas {
            let Some(r) = ghost.replica(tp, *b) else {
                continue;
            };
            if r.log_end() != leo || r.high_watermark != leo {
                return Err(format!(
                    "{tp}: b{b} at log end {} / high watermark {} while leader b{leader} has log end {leo}",
                    r.log_end(),
                    r.high_watermark
                ));
            }
        }
    }
    for p in &expect.producers {
        let n = ghost.outstanding.get(p).copied().unwrap_or(0);
        if n > 0 {
            return Err(format!(
                "{} has {n} batch(es) without an outcome",
                NodeId::Producer(*p)
            ));
        }
    }
    for (reader, tp) in &expect.readers {
        let hw = ghost
            .true_leader(tp)
            .and_then(|l| ghost.replica(tp, l))
            .map(|r| r.high_watermark)
            .unwrap_or(0);
        let pos = ghost.reader_position.get(&(*reader, tp.clone())).copied();
        if pos != Some(hw) {
            return Err(format!(
                "{} is at {pos:?} in {tp}, high watermark {hw}",
                NodeId::Reader(*reader)
            ));
        }
    }
    for (group, partitions) in &expect.groups {
        group_converged(ghost, group, partitions)?;
    }
    Ok(())
}

fn group_converged(
    ghost: &Ghost,
    group: &str,
    partitions: &[TopicPartition],
) -> Result<(), String> {
    let g = &ghost.groups;
    let view = g
        .coordinator
        .get(group)
        .ok_or(format!("group {group} has no coordinator state"))?;
    if view.state != "Stable" {
        return Err(format!(
            "group {group} is {} in generation {}",
            view.state, view.generation
        ));
    }
    for tp in partitions {
        let owners: Vec<&String> = g
            .owned
            .iter()
            .filter(|((gr, m), o)| {
                gr == group
                    && o.generation == view.generation
                    && view.members.contains(m)
                    && o.partitions.contains(tp)
            })
            .map(|((_, m), _)| m)
            .collect();
        if owners.len() != 1 {
            return Err(format!(
                "group {group}: {tp} is owned by {owners:?} in generation {}",
                view.generation
            ));
        }
        let hw = ghost
            .true_leader(tp)
            .and_then(|l| ghost.replica(tp, l))
            .map(|r| r.high_watermark)
            .unwrap_or(0);
        let committed = g
            .applied
            .get(&(group.to_string(), tp.clone()))
            .copied()
            .unwrap_or(0);
        if committed != hw {
            return Err(format!(
                "group {group}: {tp} committed at {committed}, high watermark {hw} (lag {})",
                hw.saturating_sub(committed)
            ));
        }
    }
    Ok(())
}
