//! Hooks shared by components.

pub mod use_width;
