//! Experiments: the files that state each claim and its sweep, and the runner that executes
//! them into a results folder that the report reads back.

pub mod kinds;
pub mod params;
pub mod runner;
pub mod spec;
pub mod store;
