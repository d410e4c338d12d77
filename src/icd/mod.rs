//! The ICD API itself: what the library knows of ICD beyond HTTP — the helpers and their query
//! parameters, code → entity, ICD-10, death certificates, and the check of an unserved release.

pub mod certificate;
mod entity;
mod helpers;
pub mod latest;
mod mapping;
mod navigation;
pub mod params;
pub mod release;
