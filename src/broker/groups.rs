//! Hosting group coordinators in a broker (Kafka's `GroupCoordinatorService` + runtime).
//!
//! The broker that leads partition `p` of `__consumer_offsets` hosts the coordinator of every
//! group whose `abs(javaHash(group.id)) % partitions == p`. On becoming leader it creates the
//! coordinator and loads it by replaying the partition's records, answering
//! COORDINATOR_LOAD_IN_PROGRESS meanwhile (SyncGroup: REBALANCE_IN_PROGRESS, Heartbeat: NONE, as
//! Kafka does); on losing leadership it drops it and parked requests get NOT_COORDINATOR.
//!
//! The coordinator is [`crate::coordinator::GroupCoordinator`], the core `kafkasim script` tests,
//! behind the adapter [`super::hosted::HostedCoordinator`], which the broker holds directly.
//!
//! Append-then-respond: a coordinator step returns record batches and responses; each batch is
//! appended to the partition as a leader append with acks=all, and the responses of that step are
//! held until the high watermark passes them (an acknowledged commit is a replicated commit). If
//! leadership moves first they fail with NOT_COORDINATOR. An append that fails at once (this
//! broker no longer leads: NOT_LEADER_OR_FOLLOWER; the ISR is below `min.insync.replicas`:
//! NOT_ENOUGH_REPLICAS) is reported to the core, which answers as Kafka does (NOT_COORDINATOR,
//! COORDINATOR_NOT_AVAILABLE). An append that succeeds is reported as done at once: Kafka's
//! coordinator runtime also applies a step's state before its records commit and only holds the
//! responses, and if leadership moves before the commit the whole coordinator is dropped.
//!
//! The `__consumer_offsets` log is not physically compacted here: loading replays every record
//! and keeps the latest value per key, which is what reading a compacted log yields.

use super::Broker;
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::group::*;
use crate::protocol::message::*;
use crate::protocol::{
    offsets_partition_for, ErrorCode, LogEntry, Millis, NodeId, Payload, TopicPartition,
    CONSUMER_OFFSETS,
};
use std::collections::BTreeMap;

/// A record as `__consumer_offsets` stores it: `(key, value)`, a `None` value is a tombstone.
pub type StoredRecord = (String, Option<String>);

/// What one coordinator step asks of its host.
#[derive(Debug, Default)]
pub struct CoordinatorOutput {
    /// Record batches to append, each with the id its outcome is reported under.
    pub appends: Vec<(u64, Vec<StoredRecord>)>,
    /// Responses, by the token of the request they answer.
    pub responses: Vec<(u64, Response)>,
    pub events: Vec<EventKind>,
}

impl CoordinatorOutput {
    /// Appends `other` after `self`.
    pub fn extend(&mut self, other: CoordinatorOutput) {
        self.appends.extend(other.appends);
        self.responses.extend(other.responses);
        self.events.extend(other.events);
    }
}

/// One hosted coordinator and what it is waiting for.
struct Hosted {
    core: super::hosted::HostedCoordinator,
    /// Loading until this time (COORDINATOR_LOAD_IN_PROGRESS meanwhile).
    loading_until: Millis,
    /// Responses held until the high watermark reaches the offset.
    held: Vec<(u64, NodeId, u64, Response)>,
}

/// Every coordinator this broker hosts, with the requests in flight through them.
#[derive(Default)]
pub struct GroupHost {
    hosted: BTreeMap<u32, Hosted>,
    /// token → (client, correlation id)
    clients: BTreeMap<u64, (NodeId, u64)>,
    next_token: u64,
}

impl GroupHost {
    pub fn next_deadline(&self) -> Option<Millis> {
        self.hosted
            .values()
            .flat_map(|h| {
                [
                    h.core.next_deadline(),
                    Some(h.loading_until).filter(|t| *t > 0),
                ]
            })
            .flatten()
            .min()
    }
}

impl Broker {
    fn offsets_partitions(&self) -> u32 {
        self.cfg
            .topic(CONSUMER_OFFSETS)
            .map(|t| t.partitions)
            .unwrap_or(0)
    }

    /// FindCoordinator: the leader of the group's `__consumer_offsets` partition.
    pub(super) fn handle_find_coordinator(
        &self,
        req: &FindCoordinatorRequest,
    ) -> FindCoordinatorResponse {
        let n = self.offsets_partitions();
        if n == 0 {
            return FindCoordinatorResponse {
                error: ErrorCode::CoordinatorNotAvailable,
                coordinator: None,
            };
        }
        let tp = TopicPartition::new(CONSUMER_OFFSETS, offsets_partition_for(&req.group_id, n));
        match self.metadata.partitions.get(&tp).and_then(|s| s.leader) {
            Some(l) => FindCoordinatorResponse {
                error: ErrorCode::None,
                coordinator: Some(l),
            },
            None => FindCoordinatorResponse {
                error: ErrorCode::CoordinatorNotAvailable,
                coordinator: None,
            },
        }
    }

    /// Routes a group request to the coordinator of its group, if this broker hosts it.
    pub(super) fn handle_group_request(
        &mut self,
        now: Millis,
        from: NodeId,
        corr: u64,
        req: GroupRequest,
        out: &mut Effects,
    ) {
        let reply = |out: &mut Effects, body| {
            out.send(
                from,
                Message::Response {
                    correlation_id: corr,
                    body,
                },
            )
        };
        let n = self.offsets_partitions();
        if n == 0 {
            return reply(out, req.error_response(ErrorCode::CoordinatorNotAvailable));
        }
        let p = offsets_partition_for(req.group_id(), n);
        let Some(loading_until) = self.groups.hosted.get(&p).map(|h| h.loading_until) else {
            return reply(out, req.error_response(ErrorCode::NotCoordinator));
        };
        if now < loading_until {
            return reply(out, req.loading_response());
        }
        if loading_until > 0 {
            // Loaded, but the load timer has not fired yet: activate first, so no request is
            // served by a coordinator that has not announced the groups it loaded.
            self.coordinator_loaded(now, p, out);
        }
        let Some(hosted) = self.groups.hosted.get_mut(&p) else {
            return reply(out, req.error_response(ErrorCode::NotCoordinator));
        };
        let token = self.groups.next_token;
        self.groups.next_token += 1;
        self.groups.clients.insert(token, (from, corr));
        let output = hosted.core.handle(now, token, req);
        self.apply_coordinator_output(now, p, output, out);
    }

    /// Appends a step's record batches (acks=all), reports each outcome to the coordinator, and
    /// sends or holds the responses.
    fn apply_coordinator_output(
        &mut self,
        now: Millis,
        p: u32,
        output: CoordinatorOutput,
        out: &mut Effects,
    ) {
        let tp = TopicPartition::new(CONSUMER_OFFSETS, p);
        let mut responses = Vec::new();
        let mut steps = std::collections::VecDeque::from([output]);
        while let Some(step) = steps.pop_front() {
            for e in step.events {
                out.event(e);
            }
            responses.extend(step.responses);
            for (id, records) in step.appends {
                let result = self.append_coordinator_records(now, &tp, &records, out);
                let Some(h) = self.groups.hosted.get_mut(&p) else {
                    break;
                };
                steps.push_back(h.core.append_completed(now, id, result));
            }
        }
        // Every response waits until the high watermark reaches the log end as of this step:
        // nothing a client learns may rest on state that a failover could still erase (Kafka's
        // coordinator runtime answers only from committed state). The broken variant answers
        // at once.
        let hold = !self.cfg.switches.commit_acks_before_replication;
        let hold_until = self
            .replicas
            .get(&tp)
            .map(|r| r.log.log_end_offset())
            .filter(|_| hold);
        for (token, resp) in responses {
            match hold_until {
                Some(end) => {
                    let Some(client) = self.groups.clients.remove(&token) else {
                        continue;
                    };
                    if let Some(h) = self.groups.hosted.get_mut(&p) {
                        h.held.push((token, client.0, end, resp));
                        self.groups.clients.insert(token, client);
                    }
                }
                None => self.send_token(token, resp, out),
            }
        }
        self.release_held(p, out);
    }

    fn send_token(&mut self, token: u64, resp: Response, out: &mut Effects) {
        if let Some((client, corr)) = self.groups.clients.remove(&token) {
            out.send(
                client,
                Message::Response {
                    correlation_id: corr,
                    body: resp,
                },
            );
        }
    }

    /// Appends coordinator records as the partition leader, or fails as Kafka's append would.
    fn append_coordinator_records(
        &mut self,
        now: Millis,
        tp: &TopicPartition,
        records: &[StoredRecord],
        out: &mut Effects,
    ) -> Result<(), ErrorCode> {
        let min_isr = self
            .cfg
            .topic(CONSUMER_OFFSETS)
            .map(|t| t.min_insync_replicas)
            .unwrap_or(1);
        let Some(r) = self.replicas.get_mut(tp) else {
            return Err(ErrorCode::NotLeaderOrFollower);
        };
        let Some(l) = r.leader_state() else {
            return Err(ErrorCode::NotLeaderOrFollower);
        };
        if (l.isr.len() as u32) < min_isr {
            return Err(ErrorCode::NotEnoughReplicas);
        }
        let base_offset = r.log.log_end_offset();
        let epoch = r.leader_epoch;
        let entries: Vec<LogEntry> = records
            .iter()
            .map(|(key, value)| LogEntry {
                epoch,
                append_time_ms: now,
                payload: Payload::Coordinator {
                    key: key.as_str().into(),
                    value: value.as_deref().map(Into::into),
                },
            })
            .collect();
        r.log.append(entries.iter().cloned());
        out.event(EventKind::Appended {
            tp: tp.clone(),
            base_offset,
            entries,
        });
        self.on_leader_append(now, tp, out);
        Ok(())
    }

    /// Sends held responses whose records are now below the high watermark.
    pub(super) fn release_held(&mut self, p: u32, out: &mut Effects) {
        let tp = TopicPartition::new(CONSUMER_OFFSETS, p);
        let hw = self
            .replicas
            .get(&tp)
            .map(|r| r.high_watermark)
            .unwrap_or(0);
        let Some(h) = self.groups.hosted.get_mut(&p) else {
            return;
        };
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut h.held)
            .into_iter()
            .partition(|x| x.2 <= hw);
        h.held = waiting;
        for (token, _, _, resp) in ready {
            self.send_token(token, resp, out);
        }
    }

    /// Becomes coordinator for partition `p`: create, replay the log, load for a while.
    pub(super) fn host_coordinator(&mut self, now: Millis, p: u32) {
        if !self.hosts_coordinators {
            return;
        }
        let tp = TopicPartition::new(CONSUMER_OFFSETS, p);
        let epoch = self.replicas.get(&tp).map(|r| r.leader_epoch).unwrap_or(0);
        let seed = format!("b{}e{epoch}", self.id);
        let config = super::hosted::config(p, self.offsets_partitions(), seed, &self.cfg);
        let mut core = super::hosted::HostedCoordinator::new(config, now);
        let mut records = 0u64;
        if let Some(r) = self.replicas.get(&tp) {
            for o in r.log.log_start_offset()..r.log.log_end_offset() {
                if let Some(LogEntry {
                    payload: Payload::Coordinator { key, value },
                    ..
                }) = r.log.entry(o)
                {
                    core.replay(key, value.as_deref());
                    records += 1;
                }
            }
        }
        let load_ms = self.cfg.cluster.coordinator_load_base_ms + records / 100;
        self.groups.hosted.insert(
            p,
            Hosted {
                core,
                loading_until: now + load_ms,
                held: Vec::new(),
            },
        );
        self.timers
            .schedule(now + load_ms, super::Timer::CoordinatorLoaded(p));
    }

    pub(super) fn coordinator_loaded(&mut self, now: Millis, p: u32, out: &mut Effects) {
        let Some(h) = self.groups.hosted.get_mut(&p) else {
            return;
        };
        if now < h.loading_until {
            return;
        }
        h.loading_until = 0;
        let output = h.core.activate(now);
        self.apply_coordinator_output(now, p, output, out);
    }

    /// Stops hosting partition `p`'s coordinator: held responses and requests parked in the
    /// coordinator get NOT_COORDINATOR (Kafka's `onUnloaded`).
    pub(super) fn unhost_coordinator(&mut self, now: Millis, p: u32, out: &mut Effects) {
        let Some(mut h) = self.groups.hosted.remove(&p) else {
            return;
        };
        for (token, _, _, resp) in h.held {
            self.send_token(token, with_error(resp, ErrorCode::NotCoordinator), out);
        }
        let unloaded = h.core.unload(now);
        debug_assert!(unloaded.appends.is_empty(), "unloading appends nothing");
        for e in unloaded.events {
            out.event(e);
        }
        for (token, resp) in unloaded.responses {
            self.send_token(token, resp, out);
        }
    }

    /// Fires coordinator timers that are due.
    pub(super) fn tick_coordinators(&mut self, now: Millis, out: &mut Effects) {
        let due: Vec<u32> = self
            .groups
            .hosted
            .iter()
            .filter(|(_, h)| {
                h.loading_until == 0 && h.core.next_deadline().is_some_and(|d| d <= now)
            })
            .map(|(p, _)| *p)
            .collect();
        for p in due {
            let output = self
                .groups
                .hosted
                .get_mut(&p)
                .expect("listed")
                .core
                .tick(now);
            self.apply_coordinator_output(now, p, output, out);
        }
    }
}

/// The same response with its error(s) replaced: what a client gets when the records behind a
/// response could not be committed.
fn with_error(resp: Response, error: ErrorCode) -> Response {
    match resp {
        Response::OffsetCommit(r) => Response::OffsetCommit(OffsetCommitResponse {
            partitions: r
                .partitions
                .into_iter()
                .map(|(tp, _)| (tp, error))
                .collect(),
        }),
        Response::JoinGroup(mut r) => {
            r.error = error;
            r.generation_id = NO_GENERATION;
            r.members.clear();
            Response::JoinGroup(r)
        }
        Response::SyncGroup(_) => Response::SyncGroup(SyncGroupResponse {
            error,
            assignment: String::new(),
        }),
        Response::Heartbeat(_) => Response::Heartbeat(HeartbeatResponse { error }),
        Response::LeaveGroup(_) => Response::LeaveGroup(LeaveGroupResponse {
            error,
            members: Vec::new(),
        }),
        Response::OffsetFetch(_) => Response::OffsetFetch(OffsetFetchResponse {
            error,
            partitions: Vec::new(),
        }),
        other => other,
    }
}
