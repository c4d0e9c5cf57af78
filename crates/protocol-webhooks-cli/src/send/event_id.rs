//! Fresh event ids, so that a receiver that de-duplicates by id (as it
//! should: signatures carry no timestamp) does not drop repeated sends.

use core::hash::{BuildHasher as _, Hasher as _};
use core::sync::atomic::{AtomicU64, Ordering};
use std::collections::hash_map::RandomState;
use std::time::{SystemTime, UNIX_EPOCH};

/// Counts ids made by this process, so two ids never share their input.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new id: `evt_` and 16 lower-case hex digits.
///
/// The digits hash the time, the process id and a counter with std's randomly
/// keyed SipHash: unpredictable enough for test traffic, unique within a run,
/// and needing no random-number crate.
pub(crate) fn fresh() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("evt_{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_well_formed_and_distinct() {
        let ids: HashSet<String> = (0..1000).map(|_| fresh()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let digits = id.strip_prefix("evt_").expect("prefix");
            assert_eq!(digits.len(), 16);
            assert!(
                digits
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
    }
}
