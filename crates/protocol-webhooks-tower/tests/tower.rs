//! The tower layer: the shared conformance suite (in process, over a plain
//! hyper server, and behind an axum Router), and what only a layer shows:
//! what the inner service is handed, and what it is spared.

// A test crate's root looks for its modules beside it, not in a folder of
// its own name.
#[path = "tower/app.rs"]
mod app;
#[path = "tower/conformance.rs"]
mod conformance;
#[path = "tower/handover.rs"]
mod handover;
#[path = "tower/refusals.rs"]
mod refusals;
