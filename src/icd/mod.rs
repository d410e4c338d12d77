//! The ICD API itself: what the library knows of ICD beyond HTTP (the paths of the helpers).

mod helpers;
