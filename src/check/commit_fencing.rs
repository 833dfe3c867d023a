//! **CommitFencing** (G6): a coordinator applies an OffsetCommit only from a member it lists,
//! sent with the generation it is at; or a generation −1 commit while the group is Empty or
//! unknown (the "simple" commits of `assign()` consumers and admin tools). Each coordinator is
//! judged by its own view of the group, a deposed one that has not noticed yet included.
//!
//! What Kafka promises, and where: `OffsetMetadataManager.commitOffset` validates every commit
//! with `ClassicGroup.validateOffsetCommit`: a member id the group does not hold is
//! `UNKNOWN_MEMBER_ID`, an instance id now mapped to another member id is `FENCED_INSTANCE_ID`
//! (`validateMember`), any generation but the group's is `ILLEGAL_GENERATION`, and a −1
//! generation passes only while the group is Empty. This is the fence that makes an
//! older-generation zombie harmless: Kafka lets it keep processing the partitions of its old
//! assignment until its next `poll()` (`exclusive_ownership`), but none of its commits lands.
//! The client fences first where it can: `ConsumerCoordinator.sendOffsetCommitRequest` sends
//! nothing when `AbstractCoordinator.generationIfStable()` is null (a member whose generation was
//! reset, e.g. by `max.poll.interval.ms`) and fails with `CommitFailedException`; that is a
//! `commit-failed` event here, not a commit. (Kafka also answers `REBALANCE_IN_PROGRESS` to a
//! current-generation commit during CompletingRebalance; that refusal is not a fence and is not
//! checked.)
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
