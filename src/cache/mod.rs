//! Answers kept so that they need not be asked again: in memory for as long as the API's
//! `Cache-Control` allows (`memory`), and on disk across runs for fixed releases (`disk`).

pub mod disk;
pub mod memory;
