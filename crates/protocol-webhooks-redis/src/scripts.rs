//! The Lua scripts: each runs atomically on the server, so a check and the
//! write that depends on it cannot be split by another replica's request.
//!
//! A key holds `claimed:<token hex>` with the lease as its expiry, or `done`
//! with the retention as its expiry.
//!
//! They are sent whole with `EVAL`, not by hash with `EVALSHA`: the latter
//! needs a second round trip whenever the server's script cache is empty
//! (after every restart), and a request given up on between the two would
//! never run. One self-contained command is what makes a background release
//! that follows a lost claim on the same connection reliable.

use redis::Cmd;

/// The `EVAL` command for `script` with one key; add the arguments.
pub(crate) fn eval(script: &str, key: &str) -> Cmd {
    let mut command = redis::cmd("EVAL");
    command.arg(script).arg(1).arg(key);
    command
}

/// What [`CLAIM`] found, as the first element of its reply.
pub(crate) const CLAIMED: i64 = 1;
/// See [`CLAIMED`].
pub(crate) const DONE: i64 = 2;
/// See [`CLAIMED`].
pub(crate) const IN_PROGRESS: i64 = 3;

/// `KEYS[1]`: the event's key; `ARGV[1]`: a new token; `ARGV[2]`: the lease
/// in milliseconds. Replies `{state, remaining milliseconds}`.
pub(crate) const CLAIM: &str = r"
if redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, 0}
end
local state = redis.call('GET', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if state == 'done' then
  return {2, ttl}
end
return {3, ttl}
";

/// `KEYS[1]`: the event's key; `ARGV[1]`: the holder's token; `ARGV[2]`: the
/// retention in milliseconds. Replies 1 when committed, 0 when the token
/// does not hold the claim (and then nothing changed).
pub(crate) const COMMIT: &str = r"
if redis.call('GET', KEYS[1]) == 'claimed:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
  return 1
end
return 0
";

/// `KEYS[1]`: the event's key; `ARGV[1]`: the holder's token. Replies 1
/// when released, 0 when the token does not hold the claim.
pub(crate) const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == 'claimed:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";
