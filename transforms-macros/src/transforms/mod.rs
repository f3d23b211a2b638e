//! The transforms: pure IR -> IR functions.

pub mod jac;
pub mod jvp;
pub mod scan;
pub mod transpose;
pub mod vmap;
