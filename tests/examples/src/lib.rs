//! Nothing but the test in `tests/parity.rs`: the five example receivers
//! are one program, so every request gets the same answer and the same log
//! lines from each.
