//! Scenario files: the format ([`model`]), typed faults ([`fault`]), loading with located errors
//! and validation ([`load`]).

pub mod fault;
pub mod load;
pub mod model;
pub mod swarm;

pub use fault::{Fault, NodeRef, TimedFault};
pub use load::{from_str, load, ScenarioError, ValidScenario};
pub use model::*;
