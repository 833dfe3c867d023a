//! Kafka clients as sans-IO cores: [`producer::Producer`], the assign-mode [`reader::Reader`]
//! and the group [`consumer::Consumer`]. Each talks to the cluster through one
//! [`network::NetworkClient`] (requests in flight with their timeouts, the
//! [`metadata::ClientMetadata`] cache of partition leaders and its refresh, the wake-up timer),
//! as Kafka's clients share `NetworkClient`.

pub mod consumer;
pub mod metadata;
pub mod network;
pub mod partitioner;
pub mod producer;
pub mod reader;
#[cfg(test)]
mod testing;
