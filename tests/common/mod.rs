//! Helpers shared by the integration tests. Each test file uses a different subset.
#![allow(dead_code)]

pub mod eventlogs;
pub mod firmware;
pub mod forge;
pub mod localca;
pub mod proxy;
pub mod swtpm;
