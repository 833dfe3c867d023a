//! Unit tests of the coordinator core: the rules the scripts cannot reach (append failures,
//! loading, ownership) and a few that anchor the scripts.

use super::*;
use crate::protocol::TopicPartition;

const SESSION_MS: i32 = 500;

fn config() -> CoordinatorConfig {
    CoordinatorConfig {
        group_min_session_timeout_ms: 10,
        group_max_session_timeout_ms: 600_000,
        group_initial_rebalance_delay_ms: 50,
        ..CoordinatorConfig::default()
    }
}

/// A coordinator plus a token counter; appends are left to each test.
struct Harness {
    c: GroupCoordinator,
    next: u64,
}

impl Harness {
    fn new(config: CoordinatorConfig) -> Self {
        Harness {
            c: GroupCoordinator::new(config, 0),
            next: 0,
        }
    }

    fn send(&mut self, now: Millis, r: GroupRequest) -> (RequestToken, CoordinatorOutput) {
        let t = RequestToken(self.next);
        self.next += 1;
        (t, self.c.handle(now, t, r))
    }

    /// Commits every append of `out` (and of what that produces), collecting all responses.
    fn commit_all(
        &mut self,
        now: Millis,
        mut out: CoordinatorOutput,
    ) -> Vec<(RequestToken, GroupResponse)> {
        let mut responses = std::mem::take(&mut out.responses);
        let mut appends = out.appends;
        while let Some(a) = appends.pop() {
            let more = self.c.append_completed(now, a.id, Ok(()));
            responses.extend(more.responses);
            appends.extend(more.appends);
        }
        responses
    }
}

fn join(member_id: &str) -> JoinGroupRequest {
    JoinGroupRequest {
        group_id: "g".into(),
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: 500,
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: "consumer".into(),
        protocols: vec![JoinGroupProtocol {
            name: "range".into(),
            metadata: String::new(),
        }],
        reason: None,
        client_id: "c".into(),
        client_host: "h".into(),
        require_known_member_id: false,
        support_skipping_assignment: true,
    }
}

fn sync(member_id: &str, generation_id: i32) -> GroupRequest {
    GroupRequest::SyncGroup(SyncGroupRequest {
        group_id: "g".into(),
        generation_id,
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: None,
        protocol_name: None,
        assignments: vec![(member_id.into(), "p0".into())],
    })
}

fn commit(member_id: &str, generation_id: i32, offset: i64) -> GroupRequest {
    GroupRequest::OffsetCommit(OffsetCommitRequest {
        group_id: "g".into(),
        generation_id,
        member_id: member_id.into(),
        group_instance_id: None,
        api_version: 9,
        partitions: vec![OffsetCommitPartition {
            tp: TopicPartition::new("t", 0),
            offset,
            leader_epoch: Some(3),
            metadata: None,
        }],
    })
}

fn join_response(r: &(RequestToken, GroupResponse)) -> &JoinGroupResponse {
    match &r.1 {
        GroupResponse::JoinGroup(j) => j,
        other => panic!("not a JoinGroup response: {other:?}"),
    }
}

fn commit_error(r: &GroupResponse) -> ErrorCode {
    match r {
        GroupResponse::OffsetCommit(c) => c.partitions[0].1,
        other => panic!("not an OffsetCommit response: {other:?}"),
    }
}

/// One member joined and synced: Stable at generation 1. Returns its member id.
fn stable_group(h: &mut Harness) -> String {
    let (_, out) = h.send(0, GroupRequest::JoinGroup(join("")));
    h.commit_all(0, out);
    let out = h.c.tick(50);
    let responses = h.commit_all(50, out);
    let member = join_response(&responses[0]).member_id.clone();
    let (_, out) = h.send(60, sync(&member, 1));
    let responses = h.commit_all(60, out);
    assert!(matches!(&responses[0].1, GroupResponse::SyncGroup(s) if s.error.is_ok()));
    assert_eq!(h.c.group("g").unwrap().state, ClassicGroupState::Stable);
    member
}

#[test]
fn member_ids_are_deterministic_and_seeded() {
    let mut a = Harness::new(config());
    let mut b = Harness::new(config());
    assert_eq!(stable_group(&mut a), stable_group(&mut b));
    let mut seeded = Harness::new(CoordinatorConfig {
        member_id_seed: "7".into(),
        ..config()
    });
    assert_eq!(stable_group(&mut seeded), "c-7-1");
}

#[test]
fn commit_is_answered_and_visible_only_after_its_append_commits() {
    let mut h = Harness::new(config());
    let m = stable_group(&mut h);
    let (token, out) = h.send(100, commit(&m, 1, 42));
    assert!(
        out.responses.is_empty(),
        "the response waits for the append"
    );
    assert_eq!(out.appends.len(), 1);
    let tp = TopicPartition::new("t", 0);
    assert!(h.c.committed_offset("g", &tp).is_none());
    let done = h.c.append_completed(101, out.appends[0].id, Ok(()));
    assert_eq!(done.responses.len(), 1);
    assert_eq!(done.responses[0].0, token);
    assert_eq!(commit_error(&done.responses[0].1), ErrorCode::None);
    assert_eq!(h.c.committed_offset("g", &tp).unwrap().offset, 42);
}

#[test]
fn failed_commit_append_maps_the_error_and_stores_nothing() {
    let mut h = Harness::new(config());
    let m = stable_group(&mut h);
    for (append_error, client_error) in [
        (ErrorCode::NotLeaderOrFollower, ErrorCode::NotCoordinator),
        (
            ErrorCode::NotEnoughReplicas,
            ErrorCode::CoordinatorNotAvailable,
        ),
        (
            ErrorCode::RequestTimedOut,
            ErrorCode::CoordinatorNotAvailable,
        ),
    ] {
        let (_, out) = h.send(100, commit(&m, 1, 42));
        let done =
            h.c.append_completed(101, out.appends[0].id, Err(append_error));
        assert_eq!(commit_error(&done.responses[0].1), client_error);
    }
    assert!(h
        .c
        .committed_offset("g", &TopicPartition::new("t", 0))
        .is_none());
}

#[test]
fn failed_leader_sync_append_sends_the_group_back_to_rebalancing() {
    let mut h = Harness::new(config());
    let (_, out) = h.send(0, GroupRequest::JoinGroup(join("")));
    h.commit_all(0, out);
    let out = h.c.tick(50);
    let m = join_response(&out.responses[0]).member_id.clone();
    let (token, out) = h.send(60, sync(&m, 1));
    assert!(
        out.responses.is_empty(),
        "the leader's sync waits for the group record"
    );
    assert!(
        matches!(out.records().next(), Some(CoordinatorRecord::GroupMetadata(v)) if v.members[0].assignment == "p0")
    );
    let done =
        h.c.append_completed(61, out.appends[0].id, Err(ErrorCode::NotLeaderOrFollower));
    assert!(
        matches!(&done.responses[..], [(t, GroupResponse::SyncGroup(s))] if *t == token && s.error == ErrorCode::NotCoordinator)
    );
    assert_eq!(
        h.c.group("g").unwrap().state,
        ClassicGroupState::PreparingRebalance
    );
}

#[test]
fn stale_generation_commit_is_rejected_unless_the_legacy_switch_is_on() {
    for (switch, expected) in [
        (false, ErrorCode::IllegalGeneration),
        (true, ErrorCode::None),
    ] {
        let mut h = Harness::new(CoordinatorConfig {
            commit_ignores_generation: switch,
            ..config()
        });
        let m = stable_group(&mut h);
        // The member rejoins alone: generation 2, Stable again after its sync.
        let (_, out) = h.send(100, GroupRequest::JoinGroup(join(&m)));
        h.commit_all(100, out);
        let (_, out) = h.send(110, sync(&m, 2));
        h.commit_all(110, out);
        let (_, out) = h.send(120, commit(&m, 1, 7));
        let responses = h.commit_all(120, out);
        assert_eq!(commit_error(&responses[0].1), expected, "switch {switch}");
    }
}

#[test]
fn loading_replays_the_partition_and_answers_load_in_progress_meanwhile() {
    let mut h = Harness::new(config());
    let m = stable_group(&mut h);
    let (_, out) = h.send(100, commit(&m, 1, 42));
    let mut log: Vec<CoordinatorRecord> = out.records().cloned().collect();
    h.commit_all(100, out);
    // Rebuild the log the first coordinator wrote: new group, its Stable metadata, the commit.
    let mut h2 = Harness::new(config());
    let (_, out) = h2.send(0, GroupRequest::JoinGroup(join("")));
    let mut all: Vec<CoordinatorRecord> = out.records().cloned().collect();
    h2.commit_all(0, out);
    let out = h2.c.tick(50);
    h2.commit_all(50, out);
    let (_, out) = h2.send(60, sync(&m, 1));
    all.extend(out.records().cloned());
    all.append(&mut log);

    let mut fresh = Harness::new(config());
    fresh.c.begin_loading(200);
    let (_, out) = fresh.send(200, commit(&m, 1, 1));
    assert_eq!(
        commit_error(&out.responses[0].1),
        ErrorCode::CoordinatorLoadInProgress
    );
    let (_, out) = fresh.send(200, sync(&m, 1));
    assert!(
        matches!(&out.responses[0].1, GroupResponse::SyncGroup(s) if s.error == ErrorCode::RebalanceInProgress)
    );
    let hb = GroupRequest::Heartbeat(HeartbeatRequest {
        group_id: "g".into(),
        generation_id: 1,
        member_id: m.clone(),
        group_instance_id: None,
    });
    let (_, out) = fresh.send(200, hb.clone());
    assert!(
        matches!(&out.responses[0].1, GroupResponse::Heartbeat(r) if r.error == ErrorCode::None)
    );

    for r in &all {
        fresh.c.replay(r);
    }
    fresh.c.complete_loading(200);
    let g = fresh.c.group("g").unwrap();
    assert_eq!((g.state, g.generation_id), (ClassicGroupState::Stable, 1));
    assert_eq!(g.member(&m).unwrap().assignment, "p0");
    let tp = TopicPartition::new("t", 0);
    assert_eq!(fresh.c.committed_offset("g", &tp).unwrap().offset, 42);
    let (_, out) = fresh.send(300, hb);
    assert!(
        matches!(&out.responses[0].1, GroupResponse::Heartbeat(r) if r.error == ErrorCode::None)
    );
    // Loaded members got a session deadline: silence removes the member.
    fresh.c.tick(300 + SESSION_MS as u64);
    assert_eq!(fresh.c.group("g").unwrap().state, ClassicGroupState::Empty);
}

#[test]
fn unloading_answers_parked_requests_not_coordinator() {
    let mut h = Harness::new(config());
    let (token, out) = h.send(0, GroupRequest::JoinGroup(join("")));
    h.commit_all(0, out);
    let out = h.c.unload(10, PartitionStatus::NotCoordinator);
    assert!(
        matches!(&out.responses[..], [(t, GroupResponse::JoinGroup(j))] if *t == token && j.error == ErrorCode::NotCoordinator)
    );
    let (_, out) = h.send(20, GroupRequest::JoinGroup(join("")));
    assert_eq!(
        join_response(&out.responses[0]).error,
        ErrorCode::NotCoordinator
    );
}

#[test]
fn groups_of_other_partitions_get_not_coordinator() {
    let owned = crate::protocol::offsets_partition_for("g", 50);
    let mut h = Harness::new(CoordinatorConfig {
        offsets_partition: Some(((owned + 1) % 50, 50)),
        ..config()
    });
    let (_, out) = h.send(0, GroupRequest::JoinGroup(join("")));
    assert_eq!(
        join_response(&out.responses[0]).error,
        ErrorCode::NotCoordinator
    );
    h.c.set_status(PartitionStatus::Inactive);
    let (_, out) = h.send(0, GroupRequest::JoinGroup(join("")));
    assert_eq!(
        join_response(&out.responses[0]).error,
        ErrorCode::CoordinatorNotAvailable
    );
}

#[test]
fn failed_static_replacement_is_reverted() {
    let mut h = Harness::new(config());
    let static_join = |member_id: &str| JoinGroupRequest {
        group_instance_id: Some("i".into()),
        ..join(member_id)
    };
    let (_, out) = h.send(0, GroupRequest::JoinGroup(static_join("")));
    h.commit_all(0, out);
    let out = h.c.tick(50);
    let old = join_response(&out.responses[0]).member_id.clone();
    let (_, out) = h.send(60, sync(&old, 1));
    h.commit_all(60, out);
    let (token, out) = h.send(100, GroupRequest::JoinGroup(static_join("")));
    assert!(
        out.responses.is_empty(),
        "the replacement waits for its record"
    );
    let done =
        h.c.append_completed(101, out.appends[0].id, Err(ErrorCode::NotEnoughReplicas));
    let r = join_response(&done.responses[0]);
    assert_eq!(
        (done.responses[0].0, r.error),
        (token, ErrorCode::CoordinatorNotAvailable)
    );
    assert_eq!(r.member_id, "");
    let g = h.c.group("g").unwrap();
    assert_eq!(g.member_ids(), vec![old.clone()]);
    assert_eq!(g.static_member_id("i"), Some(old.as_str()));
}

#[test]
fn timers_fire_at_their_deadline_in_order() {
    let mut h = Harness::new(config());
    let (token, out) = h.send(0, GroupRequest::JoinGroup(join("")));
    h.commit_all(0, out);
    assert_eq!(h.c.next_deadline(), Some(50));
    assert!(h.c.tick(49).responses.is_empty());
    let out = h.c.tick(50);
    assert_eq!(out.responses[0].0, token);
}

#[test]
fn a_rebalancing_group_that_lost_every_member_accepts_any_protocol() {
    // Kafka counts, per protocol, the members supporting it and compares with the member count:
    // with no members left every protocol qualifies (a fuzzed run once ended its group here with
    // INCONSISTENT_GROUP_PROTOCOL).
    let protocol = JoinGroupProtocol {
        name: "range".into(),
        metadata: String::new(),
    };
    let mut g = ClassicGroup::new("g", 0);
    g.add(ClassicGroupMember {
        member_id: "m".into(),
        group_instance_id: None,
        client_id: "c".into(),
        client_host: String::new(),
        rebalance_timeout_ms: 100,
        session_timeout_ms: 100,
        protocol_type: "consumer".into(),
        protocols: vec![JoinGroupProtocol {
            name: "roundrobin".into(),
            metadata: String::new(),
        }],
        assignment: String::new(),
        awaiting_join: None,
        awaiting_sync: None,
        is_new: false,
    });
    g.transition_to(ClassicGroupState::PreparingRebalance, 0);
    assert!(!g.supports_protocols("consumer", std::slice::from_ref(&protocol)));
    g.remove("m");
    assert!(g.supports_protocols("consumer", &[protocol]));
}
