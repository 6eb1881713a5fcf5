pub mod admin;
pub mod agents;
pub mod assets;
pub mod auth;
pub mod me;
pub mod ops;
