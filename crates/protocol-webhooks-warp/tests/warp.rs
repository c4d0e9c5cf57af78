//! The warp adapter: the shared conformance suite, and what only warp's
//! filters, rejections and body stream can show.

// A test crate's root resolves modules beside itself, not in `warp/`.
#[path = "warp/body.rs"]
mod body;
#[path = "warp/conformance.rs"]
mod conformance;
#[path = "warp/filter.rs"]
mod filter;
