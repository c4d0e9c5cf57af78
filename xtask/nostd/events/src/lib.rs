//! `protocol-webhooks` with only `alloc` and `events`: typed event parsing
//! and verification against a configuration, without `std`.

#![no_std]
#![forbid(unsafe_code)]

use libc_alloc::LibcAlloc;
use protocol_webhooks::WebhookConfig;
use protocol_webhooks::events::{Event, Payload};

#[global_allocator]
static ALLOCATOR: LibcAlloc = LibcAlloc;

/// Parses an event, returning the length of its resource id (0 when the
/// body is not an event or its type is unknown).
pub fn resource_id_len(body: &[u8]) -> usize {
    match Event::from_slice(body) {
        Ok(event) if !matches!(event.payload, Payload::Unknown(_)) => {
            event.resource_id().map_or(0, str::len)
        }
        _ => 0,
    }
}

/// Checks size and signature, then parses, as a receiver does; returns the
/// HTTP status to answer with.
pub fn receive(secret: &[u8], body: &[u8], header: Option<&[u8]>) -> u16 {
    let Ok(config) = WebhookConfig::new(secret) else {
        return 500;
    };
    match config.verify_event(body, header) {
        Ok(_) => 200,
        Err(rejection) => rejection.status(),
    }
}

/// Keep both functions in the archive: without a caller or an unmangled
/// name (which would need an `unsafe` attribute) they would be dropped unbuilt.
#[used]
static RESOURCE_ID_LEN: fn(&[u8]) -> usize = resource_id_len;
#[used]
static RECEIVE: fn(&[u8], &[u8], Option<&[u8]>) -> u16 = receive;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
