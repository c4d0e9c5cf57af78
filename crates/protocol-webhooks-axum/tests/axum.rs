//! The axum adapter: the shared conformance suite, and what only axum's
//! router state, body and responses can show.

// A test crate's root looks for its modules beside it, not in a folder of
// its own name.
#[path = "axum/body.rs"]
mod body;
#[path = "axum/claimed.rs"]
mod claimed;
#[path = "axum/conformance.rs"]
mod conformance;
#[path = "axum/rejection.rs"]
mod rejection;
#[path = "axum/state.rs"]
mod state;
