//! The classic-protocol group coordinator of one `__consumer_offsets` partition, as a sans-IO core.
//!
//! [`GroupCoordinator`] is driven only by `(now_ms, input)`: [`GroupCoordinator::handle`] for a
//! request, [`GroupCoordinator::tick`] for timers, [`GroupCoordinator::append_completed`] when the
//! host has (or has failed to) append a record batch. Each call returns a [`CoordinatorOutput`]:
//! responses to send now and record batches to append. No clock, IO, randomness or logging inside;
//! member ids are `clientId-<seed>-<n>` / `instanceId-<seed>-<n>` (Kafka appends a random UUID).
//!
//! This is the one coordinator of the crate: `kafkasim script` drives it directly, and every
//! simulated broker hosts it for the `__consumer_offsets` partitions it leads
//! (`crate::broker::hosted`, `crate::broker::groups`).
//!
//! The model is Kafka's new group coordinator (`GroupMetadataManager`, `OffsetMetadataManager`,
//! `ClassicGroup`, default since Kafka 4.0), which this core follows wherever it differs from the old
//! Scala `GroupCoordinator`:
//! * LeaveGroup for an unknown group fails as a whole with `UNKNOWN_MEMBER_ID`;
//! * OffsetCommit v9+ for an unknown group with a generation is `GROUP_ID_NOT_FOUND` (v<9:
//!   `ILLEGAL_GENERATION`);
//! * the initial rebalance delay is extended by new members whenever the rebalance started from
//!   `Empty` (`previousState == EMPTY`), not only at generation 0 as in the Scala coordinator;
//! * a deleted group is removed, not left `Dead`; a new group writes an empty `GroupMetadata` record.
//!
//! Append-then-respond: every record batch goes out as an [`Append`] with an [`AppendId`]. Responses
//! that Kafka sends only once their records are written (OffsetCommit, the SyncGroups answered by a
//! completed rebalance, a static member replacement in `Stable`, DeleteGroups) wait inside the core
//! until `append_completed(id, Ok)`. A failed append is mapped as Kafka's
//! `appendGroupMetadataErrorToResponseError` does (`NOT_LEADER_OR_FOLLOWER` -> `NOT_COORDINATOR`,
//! `NOT_ENOUGH_REPLICAS` -> `COORDINATOR_NOT_AVAILABLE`, ...); a failed leader SyncGroup sends the
//! group back to rebalancing, a failed static replacement is reverted.
//!
//! State and records: as in Kafka, classic group membership is soft state changed by the handlers,
//! and `GroupMetadata` records persist it (Kafka writes them with `replayRecords=false`); committed
//! offsets change only by replaying `OffsetCommit` records once their append is committed, so
//! OffsetFetch sees committed offsets only; tombstones are replayed when written. A coordinator
//! elected for the partition rebuilds everything by replaying the partition: [`GroupCoordinator::begin_loading`],
//! [`GroupCoordinator::replay`] per record, [`GroupCoordinator::complete_loading`]. While loading,
//! requests get `COORDINATOR_LOAD_IN_PROGRESS` (SyncGroup: `REBALANCE_IN_PROGRESS`, Heartbeat:
//! `NONE`).
//!
//! Rules and their sources: `../../shared/reference/kafka-group-coordinator.md` (sections 2-7) and
//! Apache Kafka's `group-coordinator` module.

pub mod api;
pub mod config;
pub mod group;
pub mod record;
pub mod timer;

mod admin;
mod join;
mod offsets;
mod sync;

#[cfg(test)]
mod tests;

pub use api::*;
pub use config::CoordinatorConfig;
pub use group::{ClassicGroup, ClassicGroupMember, ClassicGroupState};
pub use offsets::CommittedOffset;
pub use record::{CoordinatorRecord, GroupMetadataValue, MemberMetadataValue, OffsetCommitValue};

use crate::protocol::{ErrorCode, Millis};
use offsets::OffsetStore;
use std::collections::BTreeMap;
use timer::{Timer, TimerKey, TimerTask};

/// Whether this broker serves the partition, and how far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionStatus {
    /// Serving: requests are handled.
    Active,
    /// Replaying the partition after election: `COORDINATOR_LOAD_IN_PROGRESS`.
    Loading,
    /// Not the partition's leader: `NOT_COORDINATOR`.
    NotCoordinator,
    /// The coordinator service is not running (startup/shutdown): `COORDINATOR_NOT_AVAILABLE`.
    Inactive,
}

/// What to do once an append completes (Kafka's `appendFuture` callbacks).
#[derive(Clone, Debug)]
enum AppendCallback {
    /// Nothing waits on it (an emptied group, an expiration run).
    Nothing,
    /// A newly created group: on failure the joiner gets the error and the group goes away.
    NewGroup {
        group: String,
        token: RequestToken,
    },
    OffsetCommit {
        token: RequestToken,
        response: OffsetCommitResponse,
    },
    /// The leader's SyncGroup: on success the group becomes Stable with this assignment.
    LeaderSync {
        group: String,
        generation_id: i32,
        assignment: BTreeMap<String, String>,
    },
    StaticReplace(join::StaticReplacement),
    DeleteGroups {
        token: RequestToken,
        response: DeleteGroupsResponse,
    },
}

/// The group coordinator of one `__consumer_offsets` partition.
#[derive(Debug)]
pub struct GroupCoordinator {
    config: CoordinatorConfig,
    status: PartitionStatus,
    groups: BTreeMap<String, ClassicGroup>,
    offsets: OffsetStore,
    timer: Timer,
    /// Appends handed to the host and not yet completed, with their records.
    pending_appends: BTreeMap<AppendId, (Vec<CoordinatorRecord>, AppendCallback)>,
    next_append_id: u64,
    next_member_seq: u64,
    /// The time of the input being processed.
    now: Millis,
    /// Effects of the input being processed.
    out: CoordinatorOutput,
}

impl GroupCoordinator {
    /// An active coordinator with no groups (a partition that was empty).
    pub fn new(config: CoordinatorConfig, now: Millis) -> Self {
        let mut c = GroupCoordinator {
            config,
            status: PartitionStatus::Active,
            groups: BTreeMap::new(),
            offsets: OffsetStore::default(),
            timer: Timer::default(),
            pending_appends: BTreeMap::new(),
            next_append_id: 0,
            next_member_seq: 0,
            now,
            out: CoordinatorOutput::default(),
        };
        c.schedule_offset_expiration();
        c
    }

    pub fn config(&self) -> &CoordinatorConfig {
        &self.config
    }

    /// Replaces the cluster's topic list (topics created or deleted).
    pub fn set_cluster_topics(&mut self, topics: Option<BTreeMap<String, u32>>) {
        self.config.cluster_topics = topics;
    }

    pub fn status(&self) -> PartitionStatus {
        self.status
    }

    /// Handles one request at `now`. Timers due at or before `now` fire first.
    pub fn handle(
        &mut self,
        now: Millis,
        token: RequestToken,
        request: GroupRequest,
    ) -> CoordinatorOutput {
        self.fire_due_timers(now);
        self.now = now.max(self.now);
        match request {
            GroupRequest::JoinGroup(r) => self.handle_join_group(token, r),
            GroupRequest::SyncGroup(r) => self.handle_sync_group(token, r),
            GroupRequest::Heartbeat(r) => self.handle_heartbeat(token, r),
            GroupRequest::LeaveGroup(r) => self.handle_leave_group(token, r),
            GroupRequest::OffsetCommit(r) => self.handle_offset_commit(token, r),
            GroupRequest::OffsetFetch(r) => self.handle_offset_fetch(token, r),
            GroupRequest::DescribeGroups(r) => self.handle_describe_groups(token, r),
            GroupRequest::DeleteGroups(r) => self.handle_delete_groups(token, r),
        }
        std::mem::take(&mut self.out)
    }

    /// Fires every timer due at or before `now`, in deadline order, then creation order; each runs
    /// as of its own deadline.
    pub fn tick(&mut self, now: Millis) -> CoordinatorOutput {
        self.fire_due_timers(now);
        self.now = now.max(self.now);
        std::mem::take(&mut self.out)
    }

    /// The earliest timer deadline.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.timer.next_deadline()
    }

    /// Reports the outcome of an append: `Ok` once its records are committed, or the append error
    /// (`NOT_LEADER_OR_FOLLOWER`, `NOT_ENOUGH_REPLICAS`, `REQUEST_TIMED_OUT`, ...).
    pub fn append_completed(
        &mut self,
        now: Millis,
        id: AppendId,
        result: Result<(), ErrorCode>,
    ) -> CoordinatorOutput {
        self.fire_due_timers(now);
        self.now = now.max(self.now);
        if let Some((records, callback)) = self.pending_appends.remove(&id) {
            match result {
                Ok(()) => {
                    // Committed offsets become visible now; group metadata is already applied
                    // (soft state) and tombstones were replayed when written.
                    for r in &records {
                        if matches!(r, CoordinatorRecord::OffsetCommit(_)) {
                            self.replay(r);
                        }
                    }
                    self.on_append_succeeded(callback);
                }
                Err(e) => self.on_append_failed(callback, append_error_to_response_error(e)),
            }
        }
        std::mem::take(&mut self.out)
    }

    fn on_append_succeeded(&mut self, callback: AppendCallback) {
        match callback {
            AppendCallback::Nothing | AppendCallback::NewGroup { .. } => {}
            AppendCallback::OffsetCommit { token, response } => {
                self.respond(token, GroupResponse::OffsetCommit(response))
            }
            AppendCallback::LeaderSync {
                group,
                generation_id,
                assignment,
            } => self.on_leader_sync_stored(&group, generation_id, Ok(assignment)),
            AppendCallback::StaticReplace(r) => self.on_static_replacement_stored(r, Ok(())),
            AppendCallback::DeleteGroups { token, response } => {
                self.respond(token, GroupResponse::DeleteGroups(response))
            }
        }
    }

    fn on_append_failed(&mut self, callback: AppendCallback, error: ErrorCode) {
        match callback {
            AppendCallback::Nothing => {}
            AppendCallback::NewGroup { group, token } => {
                self.on_new_group_failed(&group, token, error)
            }
            AppendCallback::OffsetCommit { token, response } => {
                let partitions = response
                    .partitions
                    .into_iter()
                    .map(|(tp, e)| (tp, if e.is_ok() { error } else { e }))
                    .collect();
                self.respond(
                    token,
                    GroupResponse::OffsetCommit(OffsetCommitResponse { partitions }),
                );
            }
            AppendCallback::LeaderSync {
                group,
                generation_id,
                ..
            } => self.on_leader_sync_stored(&group, generation_id, Err(error)),
            AppendCallback::StaticReplace(r) => self.on_static_replacement_stored(r, Err(error)),
            AppendCallback::DeleteGroups { token, response } => {
                let results = response
                    .results
                    .into_iter()
                    .map(|(g, e)| (g, if e.is_ok() { error } else { e }))
                    .collect();
                self.respond(
                    token,
                    GroupResponse::DeleteGroups(DeleteGroupsResponse { results }),
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Loading and unloading

    /// The broker became leader of the partition: forget everything and start replaying.
    pub fn begin_loading(&mut self, now: Millis) -> CoordinatorOutput {
        let mut out = self.unload(now, PartitionStatus::Loading);
        out.extend(std::mem::take(&mut self.out));
        out
    }

    /// Applies one record of the partition (compacted or not, in log order).
    pub fn replay(&mut self, record: &CoordinatorRecord) {
        match record {
            CoordinatorRecord::OffsetCommit(v) => {
                if !self.groups.contains_key(&v.group) {
                    // A commit without membership creates a "simple" group (Empty, no protocol).
                    let group = ClassicGroup::new(&v.group, self.now);
                    self.groups.insert(v.group.clone(), group);
                }
                self.offsets.put(v);
            }
            CoordinatorRecord::OffsetCommitTombstone {
                group,
                topic,
                partition,
            } => self.offsets.remove(group, topic, *partition),
            CoordinatorRecord::GroupMetadata(v) => {
                self.timer.cancel_group(&v.group);
                let mut group = ClassicGroup::from_record(v);
                if self.config.forget_generation_on_load {
                    group.generation_id = 0;
                }
                self.groups.insert(v.group.clone(), group);
            }
            CoordinatorRecord::GroupMetadataTombstone { group } => {
                self.timer.cancel_group(group);
                self.groups.remove(group);
            }
        }
    }

    /// Loading is done (`onLoaded`): members get session deadlines, over-sized groups rebalance,
    /// and requests are served again.
    pub fn complete_loading(&mut self, now: Millis) -> CoordinatorOutput {
        self.now = now.max(self.now);
        self.status = PartitionStatus::Active;
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            let members = self.groups[&id].member_ids();
            for m in &members {
                self.reschedule_heartbeat(&id, m, None);
            }
            if members.len() > self.config.group_max_size {
                self.prepare_rebalance(&id);
            }
        }
        self.schedule_offset_expiration();
        std::mem::take(&mut self.out)
    }

    /// Loads a whole partition at once: `begin_loading`, `replay` each record, `complete_loading`.
    pub fn load<'a>(
        &mut self,
        now: Millis,
        records: impl IntoIterator<Item = &'a CoordinatorRecord>,
    ) -> CoordinatorOutput {
        let mut out = self.begin_loading(now);
        for r in records {
            self.replay(r);
        }
        out.extend(self.complete_loading(now));
        out
    }

    /// The broker lost the partition (or stopped serving it): parked requests get `NOT_COORDINATOR`
    /// (`onUnloaded`), pending appends are abandoned with it, and all state is dropped.
    pub fn unload(&mut self, now: Millis, status: PartitionStatus) -> CoordinatorOutput {
        self.now = now.max(self.now);
        let groups = std::mem::take(&mut self.groups);
        for group in groups.values() {
            for m in group.members() {
                if let Some(t) = m.awaiting_join {
                    let r = JoinGroupResponse::error(ErrorCode::NotCoordinator, &m.member_id);
                    self.respond(t, GroupResponse::JoinGroup(r));
                }
                if let Some(t) = m.awaiting_sync {
                    let r = SyncGroupResponse::error(ErrorCode::NotCoordinator);
                    self.respond(t, GroupResponse::SyncGroup(r));
                }
            }
        }
        let pending = std::mem::take(&mut self.pending_appends);
        for (_, callback) in pending.into_values() {
            self.on_append_failed(callback, ErrorCode::NotCoordinator);
        }
        self.offsets = OffsetStore::default();
        self.timer.clear();
        self.status = status;
        std::mem::take(&mut self.out)
    }

    /// Sets the partition status directly (e.g. `Inactive` during broker startup).
    pub fn set_status(&mut self, status: PartitionStatus) {
        self.status = status;
    }

    // -----------------------------------------------------------------------------------------
    // Introspection (scripts, checkers)

    pub fn group(&self, group_id: &str) -> Option<&ClassicGroup> {
        self.groups.get(group_id)
    }

    pub fn group_ids(&self) -> impl Iterator<Item = &String> {
        self.groups.keys()
    }

    /// The committed offset of a partition, if any.
    pub fn committed_offset(
        &self,
        group_id: &str,
        tp: &crate::protocol::TopicPartition,
    ) -> Option<&CommittedOffset> {
        self.offsets.get(group_id, tp)
    }

    // -----------------------------------------------------------------------------------------
    // Shared plumbing for the handlers

    fn respond(&mut self, token: RequestToken, response: GroupResponse) {
        self.out.responses.push((token, response));
    }

    /// Hands `records` to the host; `callback` runs when the append completes.
    fn append(&mut self, records: Vec<CoordinatorRecord>, callback: AppendCallback) {
        let id = AppendId(self.next_append_id);
        self.next_append_id += 1;
        self.out.appends.push(Append {
            id,
            records: records.clone(),
        });
        self.pending_appends.insert(id, (records, callback));
    }

    /// A fresh member id: `<base>-<seed>-<n>` (Kafka: `<base>-<UUID>`).
    fn generate_member_id(&mut self, base: &str) -> String {
        self.next_member_seq += 1;
        format!(
            "{base}-{}-{}",
            self.config.member_id_seed, self.next_member_seq
        )
    }

    /// The common pre-checks (`validateGroupStatus`): coordinator state and group ownership.
    fn check_coordinator(&self, group_id: &str) -> Result<(), ErrorCode> {
        match self.status {
            PartitionStatus::Inactive => return Err(ErrorCode::CoordinatorNotAvailable),
            PartitionStatus::NotCoordinator => return Err(ErrorCode::NotCoordinator),
            PartitionStatus::Loading => return Err(ErrorCode::CoordinatorLoadInProgress),
            PartitionStatus::Active => {}
        }
        if let Some((partition, partitions)) = self.config.offsets_partition {
            if crate::protocol::offsets_partition_for(group_id, partitions) != partition {
                return Err(ErrorCode::NotCoordinator);
            }
        }
        Ok(())
    }

    fn fire_due_timers(&mut self, now: Millis) {
        while let Some((deadline, task)) = self.timer.pop_due(now) {
            self.now = deadline.max(self.now);
            self.run_timer(task);
        }
    }

    fn run_timer(&mut self, task: TimerTask) {
        match task {
            TimerTask::ExpireHeartbeat { group, member } => self.expire_heartbeat(&group, &member),
            TimerTask::CompleteJoin { group } => {
                if self.groups.contains_key(&group) {
                    self.complete_join(&group);
                }
            }
            TimerTask::InitialJoin {
                group,
                delay_ms,
                remaining_ms,
            } => self.try_complete_initial_rebalance(&group, delay_ms, remaining_ms),
            TimerTask::ExpireSync {
                group,
                generation_id,
            } => self.expire_sync(&group, generation_id),
            TimerTask::ExpireOffsets => self.expire_offsets(),
        }
    }

    /// Schedules a member's session deadline (`rescheduleClassicGroupMemberHeartbeat`), after
    /// `timeout_ms` or else its session timeout.
    fn reschedule_heartbeat(&mut self, group: &str, member: &str, timeout_ms: Option<u64>) {
        let Some(m) = self.groups.get(group).and_then(|g| g.member(member)) else {
            return;
        };
        let timeout = timeout_ms.unwrap_or(m.session_timeout_ms.max(0) as u64);
        self.timer.schedule(
            heartbeat_key(group, member),
            self.now + timeout,
            TimerTask::ExpireHeartbeat {
                group: group.to_string(),
                member: member.to_string(),
            },
        );
    }

    fn schedule_offset_expiration(&mut self) {
        let interval = self.config.offsets_retention_check_interval_ms.max(1);
        self.timer.schedule(
            TimerKey::OffsetExpiration,
            self.now + interval,
            TimerTask::ExpireOffsets,
        );
    }

    fn group_mut(&mut self, group: &str) -> &mut ClassicGroup {
        self.groups.get_mut(group).expect("group exists")
    }
}

fn heartbeat_key(group: &str, member: &str) -> TimerKey {
    TimerKey::Heartbeat {
        group: group.to_string(),
        member: member.to_string(),
    }
}

/// Kafka's `appendGroupMetadataErrorToResponseError`: what a client is told when the records of
/// its request could not be written.
pub fn append_error_to_response_error(error: ErrorCode) -> ErrorCode {
    match error {
        ErrorCode::UnknownTopicOrPartition
        | ErrorCode::NotEnoughReplicas
        | ErrorCode::NotEnoughReplicasAfterAppend
        | ErrorCode::RequestTimedOut => ErrorCode::CoordinatorNotAvailable,
        ErrorCode::NotLeaderOrFollower | ErrorCode::KafkaStorageError => ErrorCode::NotCoordinator,
        ErrorCode::MessageTooLarge | ErrorCode::RecordListTooLarge => ErrorCode::UnknownServerError,
        other => other,
    }
}
