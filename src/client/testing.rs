//! A client core driven by hand, `(now, input) -> effects`, with the test playing the brokers:
//! the requests the core sent that are not answered yet, and the events it recorded.

use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::*;
use crate::protocol::{ErrorCode, LeaderEpoch, Millis, NodeId, TopicPartition};

/// What the harness needs of a client core.
pub trait Core {
    fn tick(&mut self, now: Millis, out: &mut Effects);
    fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects);
    fn next_deadline(&self) -> Option<Millis>;
}

pub struct Harness<C> {
    pub core: C,
    pub now: Millis,
    pub pending: Vec<(u64, NodeId, Request)>,
    pub events: Vec<EventKind>,
}

impl<C: Core> Harness<C> {
    pub fn new(core: C) -> Self {
        Harness {
            core,
            now: 0,
            pending: Vec::new(),
            events: Vec::new(),
        }
    }

    fn take(&mut self, out: Effects) {
        for (to, m) in out.sends {
            if let Message::Request {
                correlation_id,
                body,
            } = m
            {
                self.pending.push((correlation_id, to, body));
            }
        }
        self.events.extend(out.events);
    }

    /// Fires every timer due up to `to`.
    pub fn advance(&mut self, to: Millis) {
        while let Some(at) = self.core.next_deadline().filter(|at| *at <= to) {
            self.now = at;
            let mut out = Effects::default();
            self.core.tick(at, &mut out);
            self.take(out);
        }
        self.now = to;
    }

    /// Takes the first unanswered request that `pick` accepts.
    pub fn request(&mut self, pick: impl Fn(&Request) -> bool) -> Option<(u64, NodeId, Request)> {
        let i = self.pending.iter().position(|(_, _, r)| pick(r))?;
        Some(self.pending.remove(i))
    }

    pub fn respond(&mut self, correlation_id: u64, body: Response) {
        let mut out = Effects::default();
        self.core.handle(
            self.now,
            NodeId::Broker(1),
            Message::Response {
                correlation_id,
                body,
            },
            &mut out,
        );
        self.take(out);
    }

    /// Answers the pending Metadata request: partition 0 of topic `t` is led by `leader` at
    /// `epoch`.
    pub fn answer_metadata(&mut self, leader: u32, epoch: LeaderEpoch) {
        let (corr, _, _) = self
            .request(|r| matches!(r, Request::Metadata(_)))
            .expect("a Metadata request");
        let partitions = vec![PartitionMetadata {
            tp: TopicPartition::new("t", 0),
            error: ErrorCode::None,
            leader: Some(leader),
            leader_epoch: epoch,
            replicas: vec![1, 2, 3],
            isr: vec![1, 2, 3],
        }];
        self.respond(
            corr,
            Response::Metadata(MetadataResponse {
                brokers: vec![1, 2, 3],
                partitions,
            }),
        );
    }
}

/// Implements [`Core`] for a client core with the usual three methods.
macro_rules! impl_core {
    ($t:ty) => {
        impl $crate::client::testing::Core for $t {
            fn tick(&mut self, now: Millis, out: &mut Effects) {
                <$t>::tick(self, now, out)
            }
            fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects) {
                <$t>::handle(self, now, from, message, out)
            }
            fn next_deadline(&self) -> Option<Millis> {
                <$t>::next_deadline(self)
            }
        }
    };
}
pub(crate) use impl_core;
