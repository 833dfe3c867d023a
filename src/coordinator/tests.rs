//! Unit tests of the coordinator core (being written).
