//! **LeaderInIsr** (R2, Gustafson's `LeaderInIsr`, in its guarded form): whenever the controller
//! names a leader, that leader is a member of the ISR it commits with it.
//!
//! Catches: an election from outside the ISR that forgets to reset the ISR.

use super::ghost::Ghost;
use super::{Invariant, Reporter};
use crate::history::{Event, EventKind};

pub const NAME: &str = "leader_in_isr";

pub struct LeaderInIsr;

impl Invariant for LeaderInIsr {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, _ghost: &Ghost, report: &mut Reporter) {
        if let EventKind::PartitionChanged { state, .. } = &event.kind {
            if let Some(l) = state.leader {
                if !state.isr.contains(&l) {
                    report.safety(
                        NAME,
                        format!(
                            "{}: leader b{l} in epoch {} is not in the ISR {:?}",
                            state.tp, state.leader_epoch, state.isr
                        ),
                    );
                }
            }
        }
    }
}
