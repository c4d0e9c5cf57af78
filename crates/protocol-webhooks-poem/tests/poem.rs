//! The extractors in a Poem app: the shared HTTP conformance suite, and what
//! only Poem decides: where `.data(...)` is found, how its body stream meets
//! the limit, and how a refusal becomes a Poem response.

// A crate root looks for its modules beside itself, not in `poem/`.
#[path = "poem/body.rs"]
mod body;
#[path = "poem/conformance.rs"]
mod conformance;
#[path = "poem/registration.rs"]
mod registration;
#[path = "poem/rejection.rs"]
mod rejection;
