//! **Convergence** after the faults heal (L1, TigerBeetle's liveness mode): every partition has
//! a running leader; every replica is back in the ISR, holds the leader's whole log and knows the
//! final high watermark (= the leader's log end offset); every batch a producer sent has an
//! outcome; every reader has read up to the high watermark.
//!
//! The run polls [`converged`] during the liveness phase and reports a liveness violation if the
//! cluster is not converged within the scenario's bound.

use super::ghost::Ghost;
use crate::protocol::{NodeId, TopicPartition};

pub const NAME: &str = "replication_converges";

/// What convergence demands of the clients.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// Producers whose batches get outcomes (acks ≠ 0).
    pub producers: Vec<u32>,
    /// (reader, partition) pairs that must catch up.
    pub readers: Vec<(u32, TopicPartition)>,
}

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
    Ok(())
}
