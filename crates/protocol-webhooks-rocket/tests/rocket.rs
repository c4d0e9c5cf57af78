//! The shared conformance suite and the Rocket-specific behaviour of the
//! guards, catchers and fairing, in one test binary: each binary links all
//! of Rocket.

// A test crate's root looks for its modules beside it, not in a folder of
// its own name.
#[path = "rocket/body.rs"]
mod body;
#[path = "rocket/catchers.rs"]
mod catchers;
#[path = "rocket/conformance.rs"]
mod conformance;
#[path = "rocket/hang_up.rs"]
mod hang_up;
#[path = "rocket/rejection.rs"]
mod rejection;
#[path = "rocket/state.rs"]
mod state;
#[path = "rocket/support.rs"]
mod support;
