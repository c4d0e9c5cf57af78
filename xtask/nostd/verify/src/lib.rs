//! `protocol-webhooks` with `default-features = false`: no `std`, no `alloc`.
//!
//! There is no `#[global_allocator]` here, so code that allocated could not
//! link into a program either; building this crate is the whole check.

#![no_std]
#![forbid(unsafe_code)]

use protocol_webhooks::{Key, verify_with_any};

/// Verifies `header` against `body` with `current` or, during a rotation,
/// `previous`; an empty secret authenticates nothing.
pub fn verify(current: &[u8], previous: &[u8], body: &[u8], header: &[u8]) -> bool {
    let (Ok(current), Ok(previous)) = (Key::new(current), Key::new(previous)) else {
        return false;
    };
    verify_with_any(&[current, previous], body, header).is_ok()
}

/// Keeps `verify` in the archive: without a caller or an unmangled name
/// (which would need an `unsafe` attribute) it would be dropped unbuilt.
#[used]
static VERIFY: fn(&[u8], &[u8], &[u8], &[u8]) -> bool = verify;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
