//! The application loop of a group consumer: `poll()` (ensure membership, fetch), process the
//! records for a simulated time, commit per the commit mode; positions start from the committed
//! offset (OffsetFetch) or, when there is none or it is out of range, from `auto.offset.reset`.
//!
//! Commit modes: at-least-once commits the positions after processing (`commitSync`);
//! auto commits them every `auto.commit.interval.ms` and before an eager rebalance; at-most-once
//! commits before processing. A failed commit (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
//! REBALANCE_IN_PROGRESS: `CommitFailedException`) leaves the records uncommitted and the member
//! rejoins; coordinator errors are retried against the rediscovered coordinator.

use super::membership::{Membership, State};
use super::{Consumer, Inflight, Timer, RETRY_BACKOFF_MS};
use crate::config::{CommitMode, GroupConfig, OffsetReset};
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::group::*;
use crate::protocol::message::*;
use crate::protocol::{
    BrokerId, ErrorCode, LeaderEpoch, Millis, NodeId, ProducedValue, TopicPartition, NO_EPOCH,
};
use crate::timer::TimerId;
use std::collections::{BTreeMap, BTreeSet};

/// How many times a commit is retried after coordinator errors.
const COMMIT_RETRIES: u32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitPurpose {
    AfterProcessing,
    BeforeProcessing,
    BeforeRebalance,
    Auto,
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    /// Ask the coordinator for the committed offset.
    Unknown,
    /// No usable committed offset: reset per `auto.offset.reset`.
    Reset,
    At(u64),
    /// `auto.offset.reset=none` and nothing to start from.
    Failed,
}

/// A polled batch being processed.
#[derive(Clone, Debug)]
struct Batch {
    /// The generation and member id the batch was polled in: a reset while it is processed
    /// does not change who processed it.
    generation: i32,
    member_id: String,
    records: Vec<(TopicPartition, u64, Vec<ProducedValue>)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Stage {
    /// In `poll()`: may rejoin, fetch, return records.
    #[default]
    Polling,
    Processing,
    Committing,
}

#[derive(Clone, Debug, Default)]
pub struct App {
    stage: Stage,
    positions: BTreeMap<TopicPartition, Position>,
    /// Fetched, not yet handed out: base offset, values, and each record's leader epoch.
    buffered: BTreeMap<TopicPartition, (u64, Vec<ProducedValue>, Vec<LeaderEpoch>)>,
    /// The leader epoch of the record just below each position (KIP-320's offset epoch), sent
    /// with commits.
    position_epochs: BTreeMap<TopicPartition, LeaderEpoch>,
    batch: Option<Batch>,
    committed: BTreeMap<TopicPartition, u64>,
    poll_timer: Option<TimerId>,
    auto_commit_timer: Option<TimerId>,
    /// `auto.commit.interval.ms` passed while the application was not in `poll()`: Kafka
    /// auto-commits only inside `poll()`, so the commit waits for the next one.
    auto_commit_owed: bool,
    commit_attempts: u32,
    pub extra_processing_ms: u64,
    backoff_until: BTreeMap<TopicPartition, Millis>,
}

impl App {
    /// For logs: each owned partition's position, and what is buffered.
    pub fn describe(&self) -> String {
        let pos: Vec<String> = self
            .positions
            .iter()
            .map(|(tp, p)| format!("{tp}={p:?}"))
            .collect();
        let buf: Vec<String> = self
            .buffered
            .iter()
            .map(|(tp, (b, v, _))| format!("{tp}@{b}+{}", v.len()))
            .collect();
        format!(
            "positions [{}] buffered [{}] backoff {:?}",
            pos.join(" "),
            buf.join(" "),
            self.backoff_until
        )
    }

    /// For logs.
    pub fn stage_name(&self) -> &'static str {
        match self.stage {
            Stage::Polling => "polling",
            Stage::Processing => "processing",
            Stage::Committing => "committing",
        }
    }

    pub fn at_poll_boundary(&self) -> bool {
        self.stage == Stage::Polling
    }

    pub fn forget(&mut self, tp: &TopicPartition) {
        self.positions.remove(tp);
        self.position_epochs.remove(tp);
        self.buffered.remove(tp);
        self.committed.remove(tp);
    }

    pub fn on_assigned(&mut self, owned: &BTreeSet<TopicPartition>) {
        for tp in owned {
            self.positions
                .entry(tp.clone())
                .or_insert(Position::Unknown);
        }
    }

    /// Positions not yet committed (what a commit now would write).
    fn uncommitted(&self, owned: &BTreeSet<TopicPartition>) -> Vec<(TopicPartition, u64)> {
        self.positions
            .iter()
            .filter(|(tp, _)| owned.contains(*tp))
            .filter_map(|(tp, p)| match p {
                Position::At(o) if self.committed.get(tp) != Some(o) => Some((tp.clone(), *o)),
                _ => None,
            })
            .collect()
    }

    pub fn commit_before_rebalance_needed(&self, cfg: &GroupConfig, m: &Membership) -> bool {
        cfg.commit == CommitMode::Auto
            && m.generation >= 0
            && !self.uncommitted(&m.owned).is_empty()
    }
}

impl Consumer {
    fn group_id(&self) -> String {
        self.cfg.id.clone()
    }

    /// Advances the application: offsets to look up, fetches to send, a batch to hand out.
    pub(super) fn drive_app(&mut self, now: Millis, out: &mut Effects) {
        if self.app.stage != Stage::Polling || !self.member.is_stable() {
            return;
        }
        if std::mem::take(&mut self.app.auto_commit_owed) {
            self.auto_commit_due(now, out);
        }
        self.ensure_auto_commit_timer(now);
        self.lookup_positions(now, out);
        self.send_fetches(now, out);
        if !self.app.buffered.is_empty() {
            self.hand_out_batch(now, out);
        } else if self.cfg.commit == CommitMode::AtLeastOnce
            && !self.app.uncommitted(&self.member.owned).is_empty()
        {
            // `poll()` returned nothing new; the loop's `commitSync()` still commits the
            // positions (after a failed commit, they are not committed yet).
            self.commit_positions(now, CommitPurpose::AfterProcessing, out);
        }
    }

    fn lookup_positions(&mut self, now: Millis, out: &mut Effects) {
        let unknown: Vec<TopicPartition> = self
            .app
            .positions
            .iter()
            .filter(|(_, p)| **p == Position::Unknown)
            .map(|(tp, _)| tp.clone())
            .collect();
        let fetching = self.has_inflight(|k| matches!(k, Inflight::OffsetFetch(_)));
        if !unknown.is_empty() && !fetching {
            if let Some(c) = self.coordinator {
                let req = OffsetFetchRequest {
                    group_id: self.group_id(),
                    partitions: Some(unknown.clone()),
                };
                self.send_request(
                    now,
                    NodeId::Broker(c),
                    Inflight::OffsetFetch(unknown),
                    Request::Group(GroupRequest::OffsetFetch(req)),
                    out,
                );
            }
        }
        let resets: Vec<TopicPartition> = self
            .app
            .positions
            .iter()
            .filter(|(_, p)| **p == Position::Reset)
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in resets {
            if self.has_inflight(|k| matches!(k, Inflight::ListOffsets(t) if *t == tp))
                || self.backing_off(now, &tp)
            {
                continue;
            }
            let spec = match self.cfg.auto_offset_reset {
                OffsetReset::Earliest => OffsetSpec::Earliest,
                OffsetReset::Latest => OffsetSpec::Latest,
                OffsetReset::None => {
                    self.app.positions.insert(tp, Position::Failed);
                    continue;
                }
            };
            let Some((leader, epoch)) = self.net.metadata.leader(&tp) else {
                self.net.metadata.stale = true;
                continue;
            };
            let req = ListOffsetsRequest {
                tp: tp.clone(),
                spec,
                current_leader_epoch: epoch,
            };
            self.send_request(
                now,
                NodeId::Broker(leader),
                Inflight::ListOffsets(tp),
                Request::ListOffsets(req),
                out,
            );
        }
    }

    fn backing_off(&mut self, now: Millis, tp: &TopicPartition) -> bool {
        match self.app.backoff_until.get(tp).copied() {
            Some(until) if until > now => {
                self.wake(until);
                true
            }
            _ => false,
        }
    }

    fn send_fetches(&mut self, now: Millis, out: &mut Effects) {
        let busy: BTreeSet<TopicPartition> = self
            .inflight_fetch_partitions()
            .into_iter()
            .chain(self.app.buffered.keys().cloned())
            .collect();
        let mut by_leader: BTreeMap<BrokerId, Vec<FetchPartition>> = BTreeMap::new();
        let candidates: Vec<(TopicPartition, u64)> = self
            .app
            .positions
            .iter()
            .filter_map(|(tp, p)| match p {
                Position::At(o) if !busy.contains(tp) => Some((tp.clone(), *o)),
                _ => None,
            })
            .collect();
        for (tp, offset) in candidates {
            if self.backing_off(now, &tp) {
                continue;
            }
            let Some((leader, epoch)) = self.net.metadata.leader(&tp) else {
                self.net.metadata.stale = true;
                continue;
            };
            by_leader.entry(leader).or_default().push(FetchPartition {
                tp,
                fetch_offset: offset,
                current_leader_epoch: epoch,
                last_fetched_epoch: NO_EPOCH,
            });
        }
        for (leader, partitions) in by_leader {
            let tps = partitions.iter().map(|p| p.tp.clone()).collect();
            let req = FetchRequest {
                replica_state: None,
                max_wait_ms: self.cfg.fetch_max_wait_ms,
                max_records: self.cfg.max_poll_records,
                partitions,
            };
            self.send_request(
                now,
                NodeId::Broker(leader),
                Inflight::Fetch(tps),
                Request::Fetch(req),
                out,
            );
        }
    }

    fn inflight_fetch_partitions(&self) -> Vec<TopicPartition> {
        let mut v = Vec::new();
        // Inflight is private to the parent module; walk it through has_inflight's cousin.
        self.for_each_inflight(|k| {
            if let Inflight::Fetch(tps) = k {
                v.extend(tps.iter().cloned());
            }
        });
        v
    }

    /// `poll()` returns: up to `max.poll.records`, positions advance, processing starts (or, at
    /// most once, the commit goes first).
    fn hand_out_batch(&mut self, now: Millis, out: &mut Effects) {
        let mut left = self.cfg.max_poll_records as usize;
        let mut records = Vec::new();
        let tps: Vec<TopicPartition> = self.app.buffered.keys().cloned().collect();
        for tp in tps {
            if left == 0 {
                break;
            }
            let (base, values, epochs) = self.app.buffered.remove(&tp).expect("listed");
            let take = values.len().min(left);
            let (now_vals, rest) = values.split_at(take);
            let (now_epochs, rest_epochs) = epochs.split_at(take.min(epochs.len()));
            if !rest.is_empty() {
                self.app.buffered.insert(
                    tp.clone(),
                    (base + take as u64, rest.to_vec(), rest_epochs.to_vec()),
                );
            }
            if let Some(e) = now_epochs.last() {
                self.app.position_epochs.insert(tp.clone(), *e);
            }
            left -= take;
            self.app
                .positions
                .insert(tp.clone(), Position::At(base + take as u64));
            records.push((tp, base, now_vals.to_vec()));
        }
        self.app.batch = Some(Batch {
            generation: self.member.generation,
            member_id: self.member.member_id.clone(),
            records,
        });
        self.restart_poll_timer(now);
        if self.cfg.commit == CommitMode::AtMostOnce || self.commits_before_processing {
            self.commit_positions(now, CommitPurpose::BeforeProcessing, out);
        } else {
            self.start_processing(now);
        }
    }

    fn restart_poll_timer(&mut self, now: Millis) {
        if let Some(t) = self.app.poll_timer.take() {
            self.net.timers.cancel(t);
        }
        self.app.poll_timer = Some(
            self.net
                .timers
                .schedule(now + self.cfg.max_poll_interval_ms, Timer::PollTimeout),
        );
    }

    fn start_processing(&mut self, now: Millis) {
        let n: usize = self
            .app
            .batch
            .as_ref()
            .map(|b| b.records.iter().map(|r| r.2.len()).sum())
            .unwrap_or(0);
        let ms = (n as f64 * self.cfg.processing_ms_per_record) as u64
            + std::mem::take(&mut self.app.extra_processing_ms);
        self.app.stage = Stage::Processing;
        self.net.timers.schedule(now + ms, Timer::Processed);
    }

    /// The batch is processed: report it, then commit or poll again.
    pub(super) fn processing_done(&mut self, now: Millis, out: &mut Effects) {
        if self.app.stage != Stage::Processing {
            return;
        }
        if let Some(batch) = self.app.batch.take() {
            for (tp, base_offset, values) in batch.records {
                out.event(EventKind::Processed {
                    group: self.group_id(),
                    generation: batch.generation,
                    member_id: batch.member_id.clone(),
                    tp,
                    base_offset,
                    values,
                });
            }
        }
        if self.cfg.commit == CommitMode::AtLeastOnce
            && !self.app.uncommitted(&self.member.owned).is_empty()
        {
            self.commit_positions(now, CommitPurpose::AfterProcessing, out);
        } else {
            self.back_to_poll(now);
        }
    }

    /// Back in `poll()`: membership and fetching get another step right away (whatever ended the
    /// commit or processing may have come after this step already drove them).
    fn back_to_poll(&mut self, now: Millis) {
        self.wake(now);
        self.app.stage = Stage::Polling;
        if let Some(t) = self.app.poll_timer.take() {
            self.net.timers.cancel(t);
        }
    }

    /// Commits the current positions of owned partitions.
    pub(super) fn commit_positions(
        &mut self,
        now: Millis,
        purpose: CommitPurpose,
        out: &mut Effects,
    ) {
        let offsets = self.app.uncommitted(&self.member.owned);
        let blocking = purpose != CommitPurpose::Auto;
        if !offsets.is_empty() && self.member.state != State::Stable {
            // `generationIfStable()` is null: the commit fails in the client.
            if blocking {
                out.event(EventKind::CommitFailed {
                    group: self.group_id(),
                    member_id: self.member.member_id.clone(),
                    offsets,
                    exception: if matches!(self.member.state, State::Joining | State::Syncing) {
                        "RebalanceInProgressException"
                    } else {
                        "CommitFailedException"
                    }
                    .into(),
                });
                self.commit_finished(now, purpose);
            }
            return;
        }
        if offsets.is_empty() || self.coordinator.is_none() || self.member.generation < 0 {
            if blocking {
                self.commit_finished(now, purpose);
            }
            return;
        }
        if blocking {
            self.app.stage = Stage::Committing;
        }
        let req = OffsetCommitRequest {
            group_id: self.group_id(),
            generation_id: self.member.generation,
            member_id: self.member.member_id.clone(),
            group_instance_id: self.member.instance_id.clone(),
            offsets: offsets
                .iter()
                .map(|(tp, o)| {
                    let epoch = self.app.position_epochs.get(tp).copied();
                    (tp.clone(), *o, epoch, String::new())
                })
                .collect(),
        };
        let kind = Inflight::OffsetCommit {
            offsets,
            generation: self.member.generation,
            purpose,
        };
        let c = self.coordinator.expect("checked above");
        self.send_request(
            now,
            NodeId::Broker(c),
            kind,
            Request::Group(GroupRequest::OffsetCommit(req)),
            out,
        );
    }

    /// Sends again a commit that failed with a retriable coordinator error, now that a
    /// coordinator is known. An auto-commit is retried only in `poll()`, as Kafka's is (its
    /// failure resets `nextAutoCommitTimer` to the retry backoff, and the next
    /// `maybeAutoCommitOffsetsAsync` in `poll()` commits the positions of that moment): while a
    /// batch is being processed its position is not yet consumed, so it is owed until then.
    pub(super) fn retry_commit(&mut self, now: Millis, purpose: CommitPurpose, out: &mut Effects) {
        if purpose == CommitPurpose::Auto && self.app.stage != Stage::Polling {
            // A new commit when it goes: its attempts start again.
            self.app.commit_attempts = 0;
            self.app.auto_commit_owed = true;
            return;
        }
        self.commit_positions(now, purpose, out);
    }

    fn commit_finished(&mut self, now: Millis, purpose: CommitPurpose) {
        self.app.commit_attempts = 0;
        match purpose {
            CommitPurpose::BeforeProcessing => self.start_processing(now),
            CommitPurpose::Auto => {}
            _ => self.back_to_poll(now),
        }
    }

    fn on_commit_response(
        &mut self,
        now: Millis,
        offsets: Vec<(TopicPartition, u64)>,
        generation: i32,
        purpose: CommitPurpose,
        error: ErrorCode,
        out: &mut Effects,
    ) {
        let retriable = matches!(
            error,
            ErrorCode::NotCoordinator
                | ErrorCode::CoordinatorNotAvailable
                | ErrorCode::CoordinatorLoadInProgress
                | ErrorCode::RequestTimedOut
        );
        if retriable && self.app.commit_attempts < COMMIT_RETRIES {
            self.app.commit_attempts += 1;
            if error != ErrorCode::CoordinatorLoadInProgress {
                self.coordinator = None;
            }
            self.app.stage = if purpose == CommitPurpose::Auto {
                self.app.stage.clone()
            } else {
                Stage::Committing
            };
            if purpose == CommitPurpose::Auto
                && self
                    .pending_commit_retry
                    .is_some_and(|p| p != CommitPurpose::Auto)
            {
                // A commit the application waits on keeps the one retry slot; the auto-commit
                // is owed to the next `poll()`.
                self.app.auto_commit_owed = true;
            } else {
                self.pending_commit_retry = Some(purpose);
            }
            self.wake(now + RETRY_BACKOFF_MS);
            return;
        }
        out.event(EventKind::CommitResult {
            group: self.group_id(),
            generation,
            member_id: self.member.member_id.clone(),
            offsets: offsets.clone(),
            error,
        });
        // A failed commit (CommitFailedException) leaves the records uncommitted.
        match error {
            ErrorCode::None => {
                for (tp, o) in offsets {
                    self.app.committed.insert(tp, o);
                }
            }
            // Still in the generation the commit was fenced from: reset it and rejoin
            // (`resetGenerationOnResponseError`).
            ErrorCode::IllegalGeneration | ErrorCode::UnknownMemberId
                if generation == self.member.generation =>
            {
                self.reset_generation(error == ErrorCode::UnknownMemberId, out)
            }
            ErrorCode::IllegalGeneration
            | ErrorCode::UnknownMemberId
            | ErrorCode::RebalanceInProgress
            | ErrorCode::FencedInstanceId => self.member.rejoin_needed = true,
            _ => {}
        }
        self.commit_finished(now, purpose);
    }

    pub(super) fn commit_on_close(&mut self, now: Millis, out: &mut Effects) {
        if self.cfg.commit != CommitMode::AtMostOnce && self.app.stage == Stage::Polling {
            self.commit_positions(now, CommitPurpose::Close, out);
        }
    }

    fn ensure_auto_commit_timer(&mut self, now: Millis) {
        if self.cfg.commit == CommitMode::Auto && self.app.auto_commit_timer.is_none() {
            self.app.auto_commit_timer = Some(
                self.net
                    .timers
                    .schedule(now + self.cfg.auto_commit_interval_ms, Timer::AutoCommit),
            );
        }
    }

    pub(super) fn auto_commit_due(&mut self, now: Millis, out: &mut Effects) {
        // Kafka has one `nextAutoCommitTimer`: an owed commit (not this timer firing) restarts
        // it rather than adding a second one.
        if let Some(t) = self.app.auto_commit_timer.take() {
            self.net.timers.cancel(t);
        }
        if self.app.stage != Stage::Polling {
            // Processing or committing: the application is not in `poll()`, where Kafka's
            // `maybeAutoCommitOffsetsAsync` runs.
            self.app.auto_commit_owed = true;
            return;
        }
        if self.member.is_stable()
            && !self.has_inflight(|k| matches!(k, Inflight::OffsetCommit { .. }))
        {
            self.commit_positions(now, CommitPurpose::Auto, out);
        }
        self.ensure_auto_commit_timer(now);
    }

    /// Handles the answer to an application request.
    pub(super) fn on_app_response(
        &mut self,
        now: Millis,
        kind: Inflight,
        body: Response,
        out: &mut Effects,
    ) {
        match (kind, body) {
            (
                Inflight::OffsetCommit {
                    offsets,
                    generation,
                    purpose,
                },
                Response::OffsetCommit(r),
            ) => {
                let error = r
                    .partitions
                    .iter()
                    .map(|p| p.1)
                    .find(|e| !e.is_ok())
                    .unwrap_or(ErrorCode::None);
                self.on_commit_response(now, offsets, generation, purpose, error, out);
            }
            (Inflight::OffsetFetch(_), Response::OffsetFetch(r)) => {
                self.on_offset_fetch(now, r, out)
            }
            (Inflight::ListOffsets(tp), Response::ListOffsets(r)) => {
                if !r.error.is_ok() {
                    self.app
                        .backoff_until
                        .insert(tp.clone(), now + RETRY_BACKOFF_MS);
                    self.net.metadata.invalidate(&tp);
                } else if self.app.positions.get(&tp) == Some(&Position::Reset) {
                    self.app.position_epochs.remove(&tp);
                    self.app
                        .positions
                        .insert(tp.clone(), Position::At(r.offset));
                    out.event(EventKind::PositionReset {
                        tp,
                        offset: r.offset,
                        reason: format!("{} auto.offset.reset", self.cfg.id),
                    });
                }
            }
            (Inflight::Fetch(_), Response::Fetch(r)) => {
                for p in r.partitions {
                    self.on_fetched(now, p);
                }
            }
            _ => {}
        }
    }

    fn on_offset_fetch(&mut self, now: Millis, r: OffsetFetchResponse, out: &mut Effects) {
        if !r.error.is_ok() {
            if matches!(
                r.error,
                ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable
            ) {
                self.coordinator = None;
            }
            self.wake(now + RETRY_BACKOFF_MS);
            return;
        }
        for p in r.partitions {
            if self.app.positions.get(&p.tp) != Some(&Position::Unknown) || !p.error.is_ok() {
                continue;
            }
            out.event(EventKind::OffsetFetched {
                group: self.group_id(),
                tp: p.tp.clone(),
                offset: p.offset,
            });
            let pos = match p.offset {
                Some(o) if !self.ignores_committed_offset => {
                    if let Some(e) = p.leader_epoch {
                        self.net.metadata.see_epoch(&p.tp, e);
                        self.app.position_epochs.insert(p.tp.clone(), e);
                    }
                    self.app.committed.insert(p.tp.clone(), o);
                    Position::At(o)
                }
                _ => Position::Reset,
            };
            self.app.positions.insert(p.tp, pos);
        }
    }

    fn on_fetched(&mut self, now: Millis, p: FetchPartitionResponse) {
        let Some(Position::At(position)) = self.app.positions.get(&p.tp).copied() else {
            return;
        };
        match p.error {
            ErrorCode::None if p.base_offset == position && !p.entries.is_empty() => {
                let values = p.entries.iter().map(|e| e.payload.value()).collect();
                let epochs = p.entries.iter().map(|e| e.epoch).collect();
                self.app.buffered.insert(p.tp, (position, values, epochs));
            }
            ErrorCode::None => {}
            ErrorCode::OffsetOutOfRange => {
                self.app.positions.insert(p.tp, Position::Reset);
            }
            _ => {
                self.app
                    .backoff_until
                    .insert(p.tp.clone(), now + RETRY_BACKOFF_MS);
                self.net.metadata.invalidate(&p.tp);
            }
        }
    }

    pub(super) fn app_timeout(&mut self, now: Millis, kind: Inflight, out: &mut Effects) {
        match kind {
            Inflight::OffsetCommit {
                offsets,
                generation,
                purpose,
            } => self.on_commit_response(
                now,
                offsets,
                generation,
                purpose,
                ErrorCode::RequestTimedOut,
                out,
            ),
            Inflight::OffsetFetch(_) => self.coordinator = None,
            Inflight::ListOffsets(tp) => {
                self.net.metadata.invalidate(&tp);
            }
            Inflight::Fetch(tps) => {
                for tp in tps {
                    self.net.metadata.invalidate(&tp);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::membership::State;
    use super::*;
    use crate::protocol::group::GroupRequest;

    /// An auto-committing member of generation 1 that owns `t-0` at position 8, coordinator b1,
    /// in `stage`.
    fn member_at_8(stage: Stage) -> Consumer {
        let cfg: GroupConfig =
            toml::from_str("id = \"g\"\ntopics = [\"t\"]\nconsumers = 1\ncommit = \"auto\"")
                .expect("config");
        let mut c = Consumer::new(1, 1, cfg, 3);
        let tp = TopicPartition::new("t", 0);
        c.member.generation = 1;
        c.member.member_id = "m-1".into();
        c.member.state = State::Stable;
        c.member.rejoin_needed = false;
        c.member.owned.insert(tp.clone());
        c.app.positions.insert(tp, Position::At(8));
        c.app.stage = stage;
        c.coordinator = Some(1);
        c
    }

    /// The offsets of every OffsetCommit in `out`.
    fn commits(out: &Effects) -> Vec<Vec<u64>> {
        out.sends
            .iter()
            .filter_map(|(_, m)| match m {
                Message::Request {
                    body: Request::Group(GroupRequest::OffsetCommit(r)),
                    ..
                } => Some(r.offsets.iter().map(|o| o.1).collect()),
                _ => None,
            })
            .collect()
    }

    /// group-two-groups --swarm 2400068: an auto-commit that timed out was sent again when the
    /// coordinator was found, in the middle of a batch, and committed the batch's position
    /// before the batch was processed. Kafka retries it only in a later `poll()`.
    #[test]
    fn a_failed_auto_commit_is_retried_in_poll_never_during_a_batch() {
        let mut processing = member_at_8(Stage::Processing);
        let mut out = Effects::default();
        processing.retry_commit(10, CommitPurpose::Auto, &mut out);
        assert!(commits(&out).is_empty(), "nothing while the batch runs");
        assert!(processing.app.auto_commit_owed, "owed to the next poll()");

        let mut polling = member_at_8(Stage::Polling);
        let mut out = Effects::default();
        polling.retry_commit(10, CommitPurpose::Auto, &mut out);
        assert_eq!(commits(&out), [[8]]);

        // Back in poll(), the owed commit goes and restarts the one auto-commit timer (the one
        // armed before the batch must not keep running beside it).
        let mut out = Effects::default();
        processing.ensure_auto_commit_timer(0);
        processing.app.stage = Stage::Polling;
        processing.drive_app(20, &mut out);
        assert_eq!(commits(&out), [[8]]);
        let mut auto_commits = Vec::new();
        while let Some(t) = processing.net.timers.pop_due(20_000) {
            if t == Timer::AutoCommit {
                auto_commits.push(t);
            }
        }
        assert_eq!(auto_commits.len(), 1, "one nextAutoCommitTimer");

        // A commitSync the application waits on is sent again at once.
        let mut committing = member_at_8(Stage::Committing);
        let mut out = Effects::default();
        committing.retry_commit(10, CommitPurpose::AfterProcessing, &mut out);
        assert_eq!(commits(&out), [[8]]);
    }
}
