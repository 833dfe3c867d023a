//! Scenario files: the format ([`model`]), typed faults ([`fault`]), loading with located errors
//! and validation ([`mod@load`]).

pub mod error;
pub mod fault;
pub mod load;
pub mod locate;
pub mod model;
pub mod swarm;
pub mod validate;

pub use error::ScenarioError;
pub use fault::{Fault, NodeRef, TimedFault};
pub use load::{from_str, load, ValidScenario};
pub use model::*;
