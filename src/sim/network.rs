//! The network fault layer on top of madsim's network: which links are cut (partitions, one-way
//! or symmetric), which lose messages with some probability, which add latency (delay faults,
//! slow nodes). madsim itself supplies the base latency and the delivery.
//!
//! Every decision draws from the run's network stream (ChaCha8 seeded from the run seed), in the
//! deterministic order in which madsim runs the sending tasks.

use crate::protocol::NodeId;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// A rule on the directed links from `from` to `to`, identified so its fault can remove it.
#[derive(Clone, Debug)]
struct LinkRule {
    from: BTreeSet<NodeId>,
    to: BTreeSet<NodeId>,
    drop_probability: f64,
    extra_latency_ms: u64,
}

/// What happens to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    Deliver { extra_latency_ms: u64 },
}

#[derive(Debug)]
pub struct NetworkFaults {
    rng: ChaCha8Rng,
    /// Base loss on every link (scenario `network.loss`).
    base_loss: f64,
    /// Directed cut links, counted (overlapping partitions each hold their own cut).
    cut: BTreeMap<(NodeId, NodeId), u32>,
    rules: BTreeMap<u64, LinkRule>,
    slow: BTreeMap<u64, (NodeId, u64)>,
    next_id: u64,
}

impl NetworkFaults {
    pub fn new(rng: ChaCha8Rng, base_loss: f64) -> Self {
        NetworkFaults {
            rng,
            base_loss,
            cut: BTreeMap::new(),
            rules: BTreeMap::new(),
            slow: BTreeMap::new(),
            next_id: 0,
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Cuts every directed link in `links`; returns a handle for [`NetworkFaults::uncut`].
    pub fn cut(&mut self, links: &[(NodeId, NodeId)]) {
        for l in links {
            *self.cut.entry(*l).or_insert(0) += 1;
        }
    }

    pub fn uncut(&mut self, links: &[(NodeId, NodeId)]) {
        for l in links {
            if let Some(n) = self.cut.get_mut(l) {
                *n -= 1;
                if *n == 0 {
                    self.cut.remove(l);
                }
            }
        }
    }

    pub fn add_rule(
        &mut self,
        from: &[NodeId],
        to: &[NodeId],
        drop_probability: f64,
        extra_latency_ms: u64,
    ) -> u64 {
        let id = self.id();
        let rule = LinkRule {
            from: from.iter().copied().collect(),
            to: to.iter().copied().collect(),
            drop_probability,
            extra_latency_ms,
        };
        self.rules.insert(id, rule);
        id
    }

    pub fn remove_rule(&mut self, id: u64) {
        self.rules.remove(&id);
    }

    pub fn add_slow(&mut self, node: NodeId, extra_latency_ms: u64) -> u64 {
        let id = self.id();
        self.slow.insert(id, (node, extra_latency_ms));
        id
    }

    pub fn remove_slow(&mut self, id: u64) {
        self.slow.remove(&id);
    }

    /// Removes every fault, the base loss included (the liveness phase).
    pub fn heal_all(&mut self) {
        self.base_loss = 0.0;
        self.cut.clear();
        self.rules.clear();
        self.slow.clear();
    }

    /// Removes partitions only (a `heal` fault).
    pub fn heal_partitions(&mut self) {
        self.cut.clear();
    }

    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.contains_key(&(from, to))
    }

    /// Decides the fate of a message from `from` to `to` at send time.
    pub fn route(&mut self, from: NodeId, to: NodeId) -> Verdict {
        if self.is_cut(from, to) {
            return Verdict::Drop;
        }
        if self.base_loss > 0.0 && self.rng.gen_bool(self.base_loss) {
            return Verdict::Drop;
        }
        let mut extra = 0;
        let matching: Vec<(f64, u64)> = self
            .rules
            .values()
            .filter(|r| r.from.contains(&from) && r.to.contains(&to))
            .map(|r| (r.drop_probability, r.extra_latency_ms))
            .collect();
        for (p, latency) in matching {
            if p > 0.0 && self.rng.gen_bool(p.min(1.0)) {
                return Verdict::Drop;
            }
            extra += latency;
        }
        extra += self
            .slow
            .values()
            .filter(|(n, _)| *n == from || *n == to)
            .map(|(_, l)| *l)
            .sum::<u64>();
        Verdict::Deliver {
            extra_latency_ms: extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cuts_rules_and_slowness() {
        let mut n = NetworkFaults::new(ChaCha8Rng::seed_from_u64(1), 0.0);
        let (a, b) = (NodeId::Broker(1), NodeId::Broker(2));
        n.cut(&[(a, b)]);
        n.cut(&[(a, b)]);
        assert_eq!(n.route(a, b), Verdict::Drop);
        assert_eq!(
            n.route(b, a),
            Verdict::Deliver {
                extra_latency_ms: 0
            },
            "one-way"
        );
        n.uncut(&[(a, b)]);
        assert_eq!(n.route(a, b), Verdict::Drop, "still held by the second cut");
        n.uncut(&[(a, b)]);
        let r = n.add_rule(&[a], &[b], 0.0, 30);
        let s = n.add_slow(b, 5);
        assert_eq!(
            n.route(a, b),
            Verdict::Deliver {
                extra_latency_ms: 35
            }
        );
        n.remove_rule(r);
        n.remove_slow(s);
        assert_eq!(
            n.route(a, b),
            Verdict::Deliver {
                extra_latency_ms: 0
            }
        );
        n.add_rule(&[a], &[b], 1.0, 0);
        assert_eq!(n.route(a, b), Verdict::Drop);
    }
}
