//! Runs the real `protocol-webhooks` binary, as a user would.

extern crate alloc;

mod catalog;
mod inbox;
mod listen;
mod receiver;
mod send;
mod sign;
mod support;
mod verify;
