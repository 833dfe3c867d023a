//! **CommitFencing** (G6): the coordinator applies an OffsetCommit only from a current member in
//! the group's current generation (or a generation −1 commit to an empty or unknown group, the
//! "simple" commits of `assign()` consumers and admin tools).
//!
//! Catches: zombie commits after a rebalance (KAFKA-2555: "commits from old generations are
//! accepted"), which can move a committed offset backwards or past unprocessed records.

use super::ghost::Ghost;
use super::{Invariant, Reporter, Subject};
use crate::history::{Event, EventKind};

pub const NAME: &str = "commit_fencing";

pub struct CommitFencing;

impl Invariant for CommitFencing {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter) {
        let EventKind::CommitApplied {
            group,
            generation,
            member_id,
            offsets,
        } = &event.kind
        else {
            return;
        };
        // Each coordinator is judged by its own view of the group (a deposed one included).
        let view = ghost
            .groups
            .views
            .get(&(group.clone(), event.node.to_string()));
        let simple = *generation < 0 && view.is_none_or(|v| v.state == "Empty");
        let current =
            view.is_some_and(|v| v.generation == *generation && v.members.contains(member_id));
        if !simple && !current {
            let now = view
                .map(|v| format!("generation {} ({})", v.generation, v.state))
                .unwrap_or_else(|| "no group".into());
            let offsets: Vec<String> = offsets.iter().map(|(tp, o)| format!("{tp}={o}")).collect();
            let offsets = offsets.join(", ");
            report.safety_about(NAME, Subject::Group(group), format!("{group}: commit [{offsets}] from {member_id} in generation {generation} applied while the group is at {now}"));
        }
    }
}
