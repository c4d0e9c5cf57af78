//! The web frameworks with an adapter, by the names every command line
//! takes them by: `cargo xtask demo` and `soak`, the load test and its
//! server. `xtask`, a crate of the main workspace that cannot depend on
//! this one, compiles this file into itself by path, so both workspaces
//! read the one list.

/// The frameworks, in the order commands run and tabulate them.
pub const FRAMEWORKS: [&str; 5] = ["axum", "actix-web", "warp", "rocket", "poem"];
