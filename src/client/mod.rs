//! Kafka clients as sans-IO cores: [`producer::Producer`] and the assign-mode
//! [`reader::Reader`], sharing a [`metadata::ClientMetadata`] cache of partition leaders.

pub mod consumer;
pub mod metadata;
pub mod partitioner;
pub mod producer;
pub mod reader;
#[cfg(test)]
mod testing;
