/**
 * The Lua scripts behind every counter change: each runs atomically in Redis, on the keys of one post
 * (which share a hash tag, so they work on Redis Cluster too).
 *
 * Per post:
 * - `counts` hash: `v b l fe f` the newest PostgreSQL snapshot (version, views, likes, folded view
 *   epoch, views folded from that epoch); `e p` the post's Redis view epoch and views counted in it.
 * - `likers` hash: user id -> `seq` (likes, decided with that sequence) or `-seq` (unliked);
 *   `#n` the number of likers, `#seq` the last sequence, `#loaded` set once every liker of
 *   PostgreSQL has been merged in, `#gen` the generation of the load that fills it.
 * - `deleted` string with a TTL: the post was deleted; nothing is counted or refilled for it.
 * - `seen:<viewer>` string with a TTL of the dedup window: that viewer's view was counted; further
 *   views of it count nothing until it expires.
 *
 * Numbers leave Lua through string.format: Lua's own conversion keeps 14 significant digits, too
 * few for microsecond sequences.
 */

/** The state a read returns: {1, e, p, v, b, l, fe, f, #loaded, #n, viewer's entry}, or {0} when deleted. */
const STATE = `
local function state(counts, likers, viewer)
  local s = redis.call('HMGET', counts, 'e', 'p', 'v', 'b', 'l', 'fe', 'f')
  local k = redis.call('HMGET', likers, '#loaded', '#n', viewer)
  return {1, s[1], s[2], s[3], s[4], s[5], s[6], s[7], k[1], k[2], k[3]}
end
`;

/** KEYS counts, likers, deleted; ARGV viewer. */
export const READ = `${STATE}
if redis.call('EXISTS', KEYS[3]) == 1 then return {0} end
return state(KEYS[1], KEYS[2], ARGV[1])
`;

/**
 * KEYS counts, likers, deleted, seen; ARGV viewer, window (seconds; '0' counts every view). Counts a
 * view unless the viewer's `seen` key exists (it is set for the window by the view that counts), in
 * the same script, so racing views of one viewer count once. Answers the state with 2 in first place
 * when the view was not counted. Starts a new epoch (Redis time, microseconds) when the post has none.
 */
export const VIEW = `${STATE}
if redis.call('EXISTS', KEYS[3]) == 1 then return {0} end
if ARGV[2] ~= '0' and not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[2]) then
  local seen = state(KEYS[1], KEYS[2], ARGV[1])
  seen[1] = 2
  return seen
end
if not redis.call('HGET', KEYS[1], 'e') then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'e', t[1] .. string.format('%06d', tonumber(t[2])), 'p', 0)
end
redis.call('HINCRBY', KEYS[1], 'p', 1)
return state(KEYS[1], KEYS[2], ARGV[1])
`;

/**
 * KEYS counts, seen; ARGV epoch, forget ('1': the view set the viewer's `seen` key, which goes too,
 * so the viewer's next view counts).
 */
export const UNVIEW = `
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
if redis.call('HGET', KEYS[1], 'e') == ARGV[1] then
  redis.call('HINCRBY', KEYS[1], 'p', -1)
  return 1
end
return 0
`;

/** KEYS counts, likers, deleted; ARGV version, views, likes, viewEpoch, epochViews, viewer. Newest version wins. */
export const SAVE_SNAPSHOT = `${STATE}
if redis.call('EXISTS', KEYS[3]) == 1 then return {0} end
local current = redis.call('HGET', KEYS[1], 'v')
if (not current) or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'b', ARGV[2], 'l', ARGV[3], 'fe', ARGV[4], 'f', ARGV[5])
end
return state(KEYS[1], KEYS[2], ARGV[6])
`;

/** KEYS counts, deleted; ARGV version, views, likes, viewEpoch, epochViews. The consumer's write: no reply to build. */
export const PUSH_SNAPSHOT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'b', ARGV[2], 'l', ARGV[3], 'fe', ARGV[4], 'f', ARGV[5])
return 1
`;

/**
 * KEYS likers, deleted; ARGV user, want ('1' like, '0' unlike).
 * Returns {'gone'}, {'unloaded'}, {'unchanged', n} or {'changed', n, previous entry, new entry}.
 * The sequence is Redis time in microseconds, and always above the post's last one. It is even:
 * the odd sequence right above a decision's is kept for the decision that takes it back (see
 * MetricsService), which therefore wins over it and loses to every later decision.
 */
export const DECIDE_LIKE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {'gone'} end
if redis.call('HGET', KEYS[1], '#loaded') ~= '1' then return {'unloaded'} end
local previous = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
local likes = ARGV[2] == '1'
if likes == (tonumber(previous) > 0) then
  return {'unchanged', redis.call('HGET', KEYS[1], '#n') or '0'}
end
local t = redis.call('TIME')
local seq = tonumber(t[1]) * 1000000 + tonumber(t[2])
seq = seq - seq % 2
local last = tonumber(redis.call('HGET', KEYS[1], '#seq') or '0')
if seq <= last then seq = last + 2 - last % 2 end
local s = string.format('%.0f', seq)
redis.call('HSET', KEYS[1], '#seq', s)
local entry = s
local delta = 1
if not likes then
  entry = '-' .. s
  delta = -1
end
redis.call('HSET', KEYS[1], ARGV[1], entry)
local n = redis.call('HINCRBY', KEYS[1], '#n', delta)
return {'changed', string.format('%d', n), previous, entry}
`;

/**
 * KEYS likers, deleted. Drops the post's likers after a decision whose event may or may not have
 * reached Kafka: the next decision or read reloads them from PostgreSQL, and the consumer's push
 * brings the decision back if it was written. A deleted post keeps nothing to drop.
 */
export const DROP_LIKERS = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return redis.call('DEL', KEYS[1])
`;

/**
 * KEYS likers, deleted. Starts (or joins) a load of the post's likers from PostgreSQL, before the rows are
 * read: returns the load's generation, kept in `#gen` until the hash is dropped. A load marks the
 * set complete only if the generation is unchanged, so a load that began before a drop (or an
 * eviction, or the start-up reset) never marks a partial set loaded.
 */
export const BEGIN_LOAD = `
if redis.call('EXISTS', KEYS[2]) == 1 then return '' end
local g = redis.call('HGET', KEYS[1], '#gen')
if g then return g end
local t = redis.call('TIME')
g = t[1] .. string.format('%06d', tonumber(t[2]))
redis.call('HSET', KEYS[1], '#gen', g)
return g
`;

/**
 * KEYS likers, deleted; ARGV complete ('1' marks the set loaded), the load's generation (from
 * BEGIN_LOAD; '' for the consumer's pushes), then pairs of user and signed sequence. Per user the
 * entry with the higher sequence wins, so loaders, the consumer's pushes and live decisions can
 * interleave in any order and agree. Returns 0 for a deleted post, -1 when a load's generation is not
 * the hash's any more (it was dropped meanwhile: the load starts over), 1 otherwise.
 */
export const MERGE_LIKERS = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], '#gen') ~= ARGV[2] then return -1 end
local delta = 0
local top = tonumber(redis.call('HGET', KEYS[1], '#seq') or '0')
for i = 3, #ARGV, 2 do
  local entry = tonumber(ARGV[i + 1])
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if math.abs(entry) > math.abs(current) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    if entry > 0 then delta = delta + 1 end
    if current > 0 then delta = delta - 1 end
  end
  if math.abs(entry) > top then top = math.abs(entry) end
end
if delta ~= 0 then redis.call('HINCRBY', KEYS[1], '#n', delta) end
redis.call('HSET', KEYS[1], '#seq', string.format('%.0f', top))
if ARGV[1] == '1' then redis.call('HSET', KEYS[1], '#loaded', '1') end
return 1
`;

/** KEYS counts, likers, deleted; ARGV ttl seconds. */
export const FORGET_POST = `
redis.call('SET', KEYS[3], '1', 'EX', ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`;
