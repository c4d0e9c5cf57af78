//! The Lua scripts: each operation that reads and then writes is one script,
//! atomic on the server, so no other replica's request falls between the
//! check (the id is unknown, the token holds the lease) and the write.
//!
//! Every script gets the same keys, [`Keys::fixed`](super::keys::Keys),
//! then the entry's hash when the operation is about one entry:
//!
//! | `KEYS` | key | holds |
//! |---|---|---|
//! | 1 | `{p}:stream` | one message `id <event id>` per entry due to be taken; the consumer group's pending list holds the taken ones |
//! | 2 | `{p}:delayed` | sorted set: pending entries due later, by due time |
//! | 3 | `{p}:leases` | sorted set: in-flight entries, by lease end |
//! | 4 | `{p}:seq` | counter: the store order of entries |
//! | 5–8 | `{p}:index:<state>` | sorted set per state: ids by store order |
//! | 9–10 | `{p}:aged:done`, `{p}:aged:dead` | sorted sets: finished ids by the time they finished |
//! | 11 | `{p}:entry:<id>` | hash: the entry (the accept gets one per entry it stores) |
//!
//! `ARGV[1]` is the entry key prefix `{p}:entry:`, `ARGV[2]` the consumer
//! group, `ARGV[3]` the store's clock in Unix milliseconds; the operation's
//! own arguments follow from `ARGV[4]`. Times are computed by the caller
//! and stored as the strings it sent, never formatted by Lua.
//!
//! They are sent by hash with `EVALSHA`, not whole with `EVAL`: Redis
//! would otherwise hash the whole text on every call to find its compiled
//! copy. The store loads every script with `SCRIPT LOAD` on its first
//! script call (keeping the hashes it answers, the same on every server);
//! when Redis answers `NOSCRIPT` (restarted, or its cache flushed), the
//! store loads them all again and sends that call once more, within the
//! same time limit.

/// One of the scripts: what the store loads and calls by hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Script {
    Accept,
    Take,
    Complete,
    Fail,
    Release,
    Retry,
    RetryDead,
    Purge,
    Stats,
    List,
}

impl Script {
    /// Every script, in the order of its hash in the store's list.
    pub(super) const ALL: [Self; 10] = [
        Self::Accept,
        Self::Take,
        Self::Complete,
        Self::Fail,
        Self::Release,
        Self::Retry,
        Self::RetryDead,
        Self::Purge,
        Self::Stats,
        Self::List,
    ];

    /// Its place in [`Script::ALL`].
    pub(super) fn index(self) -> usize {
        self as usize
    }

    /// The Lua text.
    pub(super) fn text(self) -> &'static str {
        match self {
            Self::Accept => ACCEPT,
            Self::Take => TAKE,
            Self::Complete => COMPLETE,
            Self::Fail => FAIL,
            Self::Release => RELEASE,
            Self::Retry => RETRY,
            Self::RetryDead => RETRY_DEAD,
            Self::Purge => PURGE,
            Self::Stats => STATS,
            Self::List => LIST,
        }
    }
}

/// What every script starts with: names for its keys and arguments, and
/// the steps the scripts share.
macro_rules! prelude {
    () => {
        r"
local STREAM, DELAYED, LEASES, SEQ = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local INDEX = {pending = KEYS[5], in_flight = KEYS[6], done = KEYS[7], dead = KEYS[8]}
local AGED = {done = KEYS[9], dead = KEYS[10]}
local ENTRY, GROUP, NOW = ARGV[1], ARGV[2], ARGV[3]

-- Moves an entry from one state to another: its state index (keeping its
-- store order, the score), the aged set of a finished state, its updated
-- time.
local function set_state(key, id, from, to)
  local seq = redis.call('ZSCORE', INDEX[from], id) or redis.call('INCR', SEQ)
  redis.call('ZREM', INDEX[from], id)
  redis.call('ZADD', INDEX[to], seq, id)
  if AGED[from] then redis.call('ZREM', AGED[from], id) end
  if AGED[to] then redis.call('ZADD', AGED[to], NOW, id) end
  redis.call('HSET', key, 'state', to, 'updated_at', NOW)
end

-- Appends the entry to the stream: it is due.
local function stream(key, id)
  local msg = redis.call('XADD', STREAM, '*', 'id', id)
  redis.call('HSET', key, 'msg', msg)
end

-- Takes the entry's message out of the stream: acknowledged and deleted.
-- pcall: a group lost with its stream must not stop the script halfway.
local function unstream(key)
  local msg = redis.call('HGET', key, 'msg')
  if msg and msg ~= '' then
    redis.pcall('XACK', STREAM, GROUP, msg)
    redis.call('XDEL', STREAM, msg)
    redis.call('HSET', key, 'msg', '')
  end
end

-- A dead entry pending again, due now, with a fresh set of attempts.
local function revive(key, id)
  set_state(key, id, 'dead', 'pending')
  redis.call('HSET', key, 'attempts', 0, 'due_at', NOW)
  stream(key, id)
end

-- The lease on an in-flight entry, if ARGV[5] is its token.
local function held(key)
  local f = redis.call('HMGET', key, 'state', 'token')
  return f[1] == 'in_flight' and f[2] == ARGV[5]
end
"
    };
}

/// `KEYS[11]` on: the entries' hashes; from `ARGV[4]` on, three per entry:
/// the id, the event type, the body. Replies one number per entry, in
/// their order: 1 when stored, 0 when the id is known (nothing written).
/// An id twice in one call is stored once: the second finds the first.
///
/// An accept is most of an inbox's writes, so it writes the least: one
/// `EXISTS` for the whole call (the ids are almost always new; only when
/// one is known is each looked at), and only the fields an entry starts
/// with. The others are written when they first change: no `attempts` is
/// 0, no `updated_at` or `due_at` is `received_at`, no `token` holds no
/// lease. Together they measured about 15 % less Redis CPU per accept
/// (docs/BENCHMARKS.md): an entry's hash holds the body, too long for
/// Redis's compact encoding, so each field is an allocation of its own.
const ACCEPT: &str = concat!(
    prelude!(),
    r"
local count = #KEYS - 10
-- Store order: one counter step per entry, reserved at once.
local seq = redis.call('INCRBY', SEQ, count) - count
local any_known = redis.call('EXISTS', unpack(KEYS, 11)) > 0
local stored, indexed, this_call = {}, {}, {}
for i = 1, count do
  local key, a = KEYS[10 + i], 1 + 3 * i
  local id = ARGV[a]
  if this_call[key] or (any_known and redis.call('EXISTS', key) == 1) then
    stored[i] = 0
  else
    this_call[key] = true
    seq = seq + 1
    -- As stream(), with the message id written in the same HSET.
    local msg = redis.call('XADD', STREAM, '*', 'id', id)
    redis.call('HSET', key, 'event_type', ARGV[a + 1], 'body', ARGV[a + 2],
      'state', 'pending', 'received_at', NOW, 'msg', msg)
    indexed[#indexed + 1] = seq
    indexed[#indexed + 1] = id
    stored[i] = 1
  end
end
if #indexed > 0 then redis.call('ZADD', INDEX.pending, unpack(indexed)) end
return stored
"
);

/// `ARGV[4]`: the consumer; `ARGV[5]`: the lease end; `ARGV[6]`: the most
/// entries to take; `ARGV[7]`: the most attempts; `ARGV[8]`: the new token;
/// `ARGV[9]`: the error kept on an entry whose last lease ended;
/// `ARGV[10]`: the most delayed entries and ended leases looked at.
///
/// 1. Creates the consumer group if it is missing (with the stream).
/// 2. Appends the delayed entries that are due to the stream, earliest
///    first.
/// 3. Leases that ended: dead if it was the last attempt, else taken again
///    (the message claimed for this consumer).
/// 4. New messages for the group: each is taken, unless its entry is no
///    longer pending with this message (then the message is dropped).
///
/// Replies `{{id, event type, body, attempt, received at}, ...}`.
const TAKE: &str = concat!(
    prelude!(),
    r"
local consumer, lease_end, token = ARGV[4], ARGV[5], ARGV[8]
local limit, max = tonumber(ARGV[6]), tonumber(ARGV[7])
local taken = {}

local function take(key, id, from)
  local attempts = redis.call('HINCRBY', key, 'attempts', 1)
  set_state(key, id, from, 'in_flight')
  redis.call('HSET', key, 'token', token, 'due_at', lease_end)
  redis.call('ZADD', LEASES, lease_end, id)
  local f = redis.call('HMGET', key, 'event_type', 'body', 'received_at')
  taken[#taken + 1] = {id, f[1], f[2], attempts, f[3]}
end

redis.pcall('XGROUP', 'CREATE', STREAM, GROUP, '0', 'MKSTREAM')

for _, id in ipairs(redis.call('ZRANGEBYSCORE', DELAYED, '-inf', NOW, 'LIMIT', 0, ARGV[10])) do
  redis.call('ZREM', DELAYED, id)
  local key = ENTRY .. id
  if redis.call('HGET', key, 'state') == 'pending' then stream(key, id) end
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', LEASES, '-inf', NOW, 'LIMIT', 0, ARGV[10])) do
  local key = ENTRY .. id
  local f = redis.call('HMGET', key, 'state', 'attempts', 'msg')
  if f[1] ~= 'in_flight' then
    redis.call('ZREM', LEASES, id)
  elseif (tonumber(f[2]) or max) >= max then
    redis.call('ZREM', LEASES, id)
    unstream(key)
    set_state(key, id, 'in_flight', 'dead')
    redis.call('HSET', key, 'token', '', 'last_error', ARGV[9], 'due_at', NOW)
  elseif #taken < limit then
    if f[3] and f[3] ~= '' then
      redis.pcall('XCLAIM', STREAM, GROUP, consumer, 0, f[3], 'JUSTID')
    end
    take(key, id, 'in_flight')
  end
end

while #taken < limit do
  local reply = redis.call('XREADGROUP', 'GROUP', GROUP, consumer,
    'COUNT', limit - #taken, 'STREAMS', STREAM, '>')
  if not reply or not reply[1] or #reply[1][2] == 0 then break end
  for _, message in ipairs(reply[1][2]) do
    local msg, fields = message[1], message[2]
    local id = fields and fields[1] == 'id' and fields[2]
    local f = id and redis.call('HMGET', ENTRY .. id, 'state', 'msg')
    if f and f[1] == 'pending' and f[2] == msg then
      take(ENTRY .. id, id, 'pending')
    else
      redis.call('XACK', STREAM, GROUP, msg)
      redis.call('XDEL', STREAM, msg)
    end
  end
end

return taken
"
);

/// `ARGV[4]`: the id; `ARGV[5]`: the token; `ARGV[6]`: how many effects
/// follow, each as its argument count and then the command's arguments.
/// Replies 1 when done, 0 when the token does not hold the lease (nothing
/// written, no effect run).
///
/// The effects run after the lease check and before the entry is done, in
/// the same script: Redis applies both or, when it dies first, neither. A
/// command that fails (e.g. on a key of another type) stops the script
/// with the commands before it applied and the entry not done: Redis has
/// no rollback.
const COMPLETE: &str = concat!(
    prelude!(),
    r"
local key, id = KEYS[11], ARGV[4]
if not held(key) then return 0 end
local at = 7
for _ = 1, tonumber(ARGV[6]) do
  local count = tonumber(ARGV[at])
  redis.call(unpack(ARGV, at + 1, at + count))
  at = at + 1 + count
end
redis.call('ZREM', LEASES, id)
unstream(key)
set_state(key, id, 'in_flight', 'done')
redis.call('HSET', key, 'token', '')
return 1
"
);

/// `ARGV[4]`: the id; `ARGV[5]`: the token; `ARGV[6]`: the error text;
/// `ARGV[7]`: when the retry is due, or empty for dead. Replies 1 when
/// recorded, 0 when the token does not hold the lease (nothing written).
const FAIL: &str = concat!(
    prelude!(),
    r"
local key, id, due = KEYS[11], ARGV[4], ARGV[7]
if not held(key) then return 0 end
redis.call('ZREM', LEASES, id)
unstream(key)
redis.call('HSET', key, 'token', '', 'last_error', ARGV[6])
if due == '' then
  set_state(key, id, 'in_flight', 'dead')
  redis.call('HSET', key, 'due_at', NOW)
else
  set_state(key, id, 'in_flight', 'pending')
  redis.call('HSET', key, 'due_at', due)
  redis.call('ZADD', DELAYED, due, id)
end
return 1
"
);

/// `ARGV[4]`: the id; `ARGV[5]`: the token; `ARGV[6]`: when it is due
/// again. Replies 1 when handed back, 0 when the token does not hold the
/// lease (nothing written).
const RELEASE: &str = concat!(
    prelude!(),
    r"
local key, id, due = KEYS[11], ARGV[4], ARGV[6]
if not held(key) then return 0 end
redis.call('ZREM', LEASES, id)
unstream(key)
if (tonumber(redis.call('HGET', key, 'attempts')) or 0) > 0 then
  redis.call('HINCRBY', key, 'attempts', -1)
end
set_state(key, id, 'in_flight', 'pending')
redis.call('HSET', key, 'token', '', 'due_at', due)
redis.call('ZADD', DELAYED, due, id)
return 1
"
);

/// `ARGV[4]`: the id. Replies 1 when the dead entry is pending again, 0
/// when it is not dead or unknown.
const RETRY: &str = concat!(
    prelude!(),
    r"
local key, id = KEYS[11], ARGV[4]
if redis.call('HGET', key, 'state') ~= 'dead' then return 0 end
revive(key, id)
return 1
"
);

/// `ARGV[4]`: the most entries per call. Revives the oldest dead entries;
/// replies how many.
const RETRY_DEAD: &str = concat!(
    prelude!(),
    r"
local ids = redis.call('ZRANGE', INDEX.dead, 0, tonumber(ARGV[4]) - 1)
for _, id in ipairs(ids) do
  local key = ENTRY .. id
  if redis.call('HGET', key, 'state') == 'dead' then
    revive(key, id)
  else
    redis.call('ZREM', INDEX.dead, id)
  end
end
return #ids
"
);

/// `ARGV[4]`: `done` or `dead`; `ARGV[5]`: the cutoff (entries finished at
/// or before it go); `ARGV[6]`: the most entries per call. Replies
/// `{ids looked at, entries removed}`.
const PURGE: &str = concat!(
    prelude!(),
    r"
local state = ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', AGED[state], '-inf', ARGV[5], 'LIMIT', 0, ARGV[6])
local removed = 0
for _, id in ipairs(ids) do
  local key = ENTRY .. id
  if redis.call('HGET', key, 'state') == state then
    redis.call('DEL', key)
    redis.call('ZREM', INDEX[state], id)
    removed = removed + 1
  end
  redis.call('ZREM', AGED[state], id)
end
return {#ids, removed}
"
);

/// Replies `{pending, in_flight, done, dead}` counts.
const STATS: &str = concat!(
    prelude!(),
    r"
return {redis.call('ZCARD', INDEX.pending), redis.call('ZCARD', INDEX.in_flight),
  redis.call('ZCARD', INDEX.done), redis.call('ZCARD', INDEX.dead)}
"
);

/// `ARGV[4]`: a state, or empty for every state; `ARGV[5]`: the index of
/// the last entry wanted (-1: all). Replies, in store order,
/// `{{id, event type, state, attempts, last error or nil, received at,
/// updated at, due at}, ...}`.
const LIST: &str = concat!(
    prelude!(),
    r"
local state, stop = ARGV[4], tonumber(ARGV[5])
local ids = {}
if state ~= '' then
  ids = redis.call('ZRANGE', INDEX[state], 0, stop)
else
  local all = {}
  for _, name in ipairs({'pending', 'in_flight', 'done', 'dead'}) do
    local reply = redis.call('ZRANGE', INDEX[name], 0, stop, 'WITHSCORES')
    for i = 1, #reply, 2 do all[#all + 1] = {tonumber(reply[i + 1]), reply[i]} end
  end
  table.sort(all, function(a, b) return a[1] < b[1] end)
  local n = #all
  if stop >= 0 and n > stop + 1 then n = stop + 1 end
  for i = 1, n do ids[i] = all[i][2] end
end
local out = {}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', ENTRY .. id, 'event_type', 'state', 'attempts', 'last_error',
    'received_at', 'updated_at', 'due_at')
  if f[2] then out[#out + 1] = {id, f[1], f[2], f[3], f[4], f[5], f[6], f[7]} end
end
return out
"
);
