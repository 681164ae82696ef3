-- The router's state transitions on Redis, each one atomic (one call = one transition plus
-- the matching it enables). Several controller processes share one Redis; this script is their
-- serialisation point, so no agent ever gets two calls and no call two agents.
--
-- ARGV: prefix, op, now_ms, now_iso, day, hour, op arguments... (`enqueue`: name, value pairs);
-- an unknown op is an error naming it (OPS below).
-- Scores: waiting calls  -priority*BAND + queued_ms  (minus HEAD for callers sent back to the head)
--         available agents  -level*BAND + idle_since_ms
-- so ZRANGE order is the policy order (ties: member name), see queues/policy.py.
--
-- Indexes (layout 2), chosen so that one match reads the heads of a few sorted sets:
--   wait:<skill>:<L>   waiting calls an agent with level L in <skill> may take: by the main rule
--                      (primary skill <skill> at a minimum level <= L; the call's other skills
--                      are checked on the call) or by escalation (<skill> added at a level <= L);
--                      so a call is in L = level..5 of its primary and of each added skill
--   wait:__any__       waiting calls without skills (any agent)
--   avail:<skill>      free agents with that skill; avail:__any__ every free agent
-- so an agent's best call is the smallest head among one set per skill of the agent, plus one.
-- Every timed redis.call and Lua string costs here (this runs for every match): keys are built
-- by concatenation, level strings come from LV, an agent's skills are read once per run.

-- Two forms of one source (queues/router_script.py): this file is the script for EVALSHA,
-- which builds the helpers below on every call; on Redis >= 7 the same text is a function
-- library (FUNCTION LOAD once, FCALL), whose helpers are built once when it is loaded. Two
-- lines differ: BUILD_ONLY, the operation to build (the call's ARGV[2]; in the library false:
-- all of them), and the last, which runs the call or registers the function. A run's state
-- lives in the locals below, set afresh by `run` at each call.
local BUILD_ONLY = ARGV[2]

-- the call: ARGV prefix, op, now_ms, now_iso, day, hour, op arguments... (set by `run`)
local P, OP, NOW, NOW_ISO, DAY, HOUR, A, Q

local BAND = 10000000000000
local HEAD = 4000000000000
local OFFER_GRACE_S = 15  -- beyond the ring timeout, before an offer nobody acted on is taken back
local BUSY_BACKOFF_S = 20  -- a phone that answered busy is skipped this long (or until AMI says)
local ANY = '__any__'
local NOT_OFFERABLE = {INUSE = 1, BUSY = 1, UNAVAILABLE = 1, RINGING = 1, RINGINUSE = 1,
  ONHOLD = 1, INVALID = 1}

local function fmt(n) return string.format('%.0f', n) end
local LV = {'1', '2', '3', '4', '5'}
local function lv(n) return LV[n] or fmt(n) end
local LAYOUT = '2'
local NULL = {}
local function raw(s) return {raw = s} end
-- one JSON object from name, value pairs (JSON text: raw(s)); its pieces go into one reused
-- buffer and are joined once (no string per field: fewer strings for the collector, issue 20)
local JBUF = {}
local function J(...)
  local t = {...}
  local n = 1
  JBUF[1] = '{'
  for i = 1, #t, 2 do
    local v = t[i + 1]
    local enc
    if v == NULL or v == nil or v == false then enc = 'null'
    elseif type(v) == 'table' then enc = v.raw
    elseif type(v) == 'number' then enc = fmt(v)
    else enc = cjson.encode(tostring(v)) end
    JBUF[n + 1] = i == 1 and '"' or ',"'
    JBUF[n + 2] = t[i]  -- field names are plain identifiers
    JBUF[n + 3] = '":'
    JBUF[n + 4] = enc
    n = n + 4
  end
  JBUF[n + 1] = '}'
  return table.concat(JBUF, '', 1, n + 1)
end
local function emit(stream, typ, json)
  redis.call('XADD', P .. ':stream:' .. stream, 'MAXLEN', '~', '100000', '*', 'type', typ, 'data', json)
end
-- live messages go out at the end of the run, one PUBLISH per channel (flush_live): a channel
-- given one message gets it as it is, {"type": ..., "data": ...}; given several, a JSON array of
-- them in the order they were made (kck.bus.Subscription hands them on one by one). A match
-- told the chosen agent's desk three things (available, offered, the offer) in three messages.
-- A channel's messages are kept as (type, data) pieces and each PUBLISH is joined once.
local LIVE_CHANNELS, LIVE  -- per run (run)
local function live(channel, typ, json)
  local key = P .. ':live:' .. channel
  local messages = LIVE[key]
  if messages == nil then
    messages = {}
    LIVE[key] = messages
    LIVE_CHANNELS[#LIVE_CHANNELS + 1] = key
  end
  local n = #messages
  messages[n + 1] = cjson.encode(typ)
  messages[n + 2] = json
end
local function flush_live()
  for _, key in ipairs(LIVE_CHANNELS) do
    local messages = LIVE[key]
    local several = #messages > 2
    local n = 0
    if several then n = 1; JBUF[1] = '[' end
    for i = 1, #messages, 2 do
      if i > 1 then n = n + 1; JBUF[n] = ',' end
      JBUF[n + 1] = '{"type":'
      JBUF[n + 2] = messages[i]
      JBUF[n + 3] = ',"data":'
      JBUF[n + 4] = messages[i + 1]
      JBUF[n + 5] = '}'
      n = n + 5
    end
    if several then n = n + 1; JBUF[n] = ']' end
    redis.call('PUBLISH', key, table.concat(JBUF, '', 1, n))
  end
end
local function nz(s) if s == nil or s == false or s == '' then return NULL end return s end
local function hgetall(key)
  local flat, t = redis.call('HGETALL', key), {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- statistics: a call counts in the day and hour it entered the queue (kept on the call). The
-- counters expire two days after their last change: statistics read today's, SQL keeps the
-- history, and Redis does not keep a key per hour forever. (queues/store.py reads STATS_TTL
-- from this line: keep it `local STATS_TTL = <seconds>`.)
local STATS_TTL = 172800
-- a key's lifetime is set once per run (a match counts into the same two agent keys twice): the
-- same NOW, the same expiry. (Adding a run's counts up in Lua tables and writing each field
-- once cost more inside Redis than the HINCRBYs it saved: bench/README.md, issue 20 point 6.)
local EXPIRING  -- per run (run)
local function count(key, field, by)
  redis.call('HINCRBY', key, field, by)
  if not EXPIRING[key] then
    EXPIRING[key] = true
    redis.call('EXPIRE', key, STATS_TTL)
  end
end
local function stat(call, field, by)
  local d, h = Q .. 'st:d:' .. call.sd, Q .. 'st:h:' .. call.sh
  count(d .. ':q:' .. call.queue, field, by)
  count(d .. ':s:' .. call.primary, field, by)
  count(h .. ':q:' .. call.queue, field, by)
  count(h .. ':s:' .. call.primary, field, by)
end
local function periods_add(kind, field, by)
  count(Q .. 'st:d:' .. DAY .. ':' .. kind, field, by)
  count(Q .. 'st:h:' .. HOUR .. ':' .. kind, field, by)
end

-- agents ------------------------------------------------------------------------------------
-- an agent's skills, read once per script run (agent_login drops the cached copy); read-only
local SKILLS  -- per run (run)
local function agent_skills(name)
  local out = SKILLS[name]
  if out == nil then
    out = {}
    local flat = redis.call('HGETALL', Q .. 'askills:' .. name)
    for i = 1, #flat, 2 do out[flat[i]] = tonumber(flat[i + 1]) end
    SKILLS[name] = out
  end
  return out
end

local function unindex_agent(name)
  for s, _ in pairs(agent_skills(name)) do redis.call('ZREM', Q .. 'avail:' .. s, name) end
  redis.call('ZREM', Q .. 'avail:' .. ANY, name)
end

-- an available agent (idle since `idle` ms) is in the free-agent indexes unless the phone is busy
local function index_available(name, idle)
  local dev = redis.call('HGET', Q .. 'devices', name) or ''
  if NOT_OFFERABLE[dev] then
    unindex_agent(name)
    return false
  end
  for s, l in pairs(agent_skills(name)) do
    redis.call('ZADD', Q .. 'avail:' .. s, fmt(-l * BAND + idle), name)
  end
  redis.call('ZADD', Q .. 'avail:' .. ANY, fmt(-5 * BAND + idle), name)
  return true
end

local function index_agent(name)
  local a = redis.call('HMGET', Q .. 'agent:' .. name, 'state', 'idle')
  if a[1] ~= 'available' then
    unindex_agent(name)
    return false
  end
  return index_available(name, tonumber(a[2]) or NOW)
end

-- agents who became available in this run and are not in the free-agent indexes yet: agent_free
-- offers them a call first and indexes them only if none is waiting (saves the ZADDs and ZREMs)
local PENDING  -- per run (run)
-- the state set_agent gave an agent in this run (match_agent need not read it back)
local AGENT_STATE  -- per run (run)

-- `prev`: the agent's {state, since} when the caller has read them already;
-- `until_ms`: when the state ends by itself (wrap-up), for the desk's countdown
local function set_agent(name, state, reason, call_id, offer_id, prev, until_ms)
  local ak = Q .. 'agent:' .. name
  prev = prev or redis.call('HMGET', ak, 'state', 'since')
  if prev[1] and prev[2] then
    local dur = NOW - tonumber(prev[2])
    if dur < 0 then dur = 0 end
    periods_add('agents', prev[1] .. '_ms', dur)
  end
  local fields = {'state', state, 'reason', reason or '', 'since', NOW, 'since_iso', NOW_ISO,
    'call', call_id or '', 'offer', offer_id or ''}
  if state == 'available' then fields[#fields + 1] = 'idle'; fields[#fields + 1] = NOW end
  redis.call('HSET', ak, unpack(fields))
  AGENT_STATE[name] = state
  -- only an available agent is ever in the free-agent indexes
  if state == 'available' then
    if prev[1] == 'available' and not PENDING[name] then unindex_agent(name) end
    PENDING[name] = true
  elseif PENDING[name] then
    PENDING[name] = nil
  elseif prev[1] == 'available' then
    unindex_agent(name)
  end
  local ev = J('agent', name, 'state', state, 'reason', nz(reason), 'since', NOW_ISO,
    'call_id', nz(call_id), 'until_ms', until_ms or NULL)
  emit('queues', 'agent_state', ev)
  live('agents', 'agent_state', ev)
  -- the agent's own desk listens on its own channel only (not to every agent's changes)
  live('agent:' .. name, 'agent_state', ev)
end

local function meets(name, others)
  local known = SKILLS[name]
  for s, l in pairs(others) do
    local have
    if known then have = known[s] or 0
    else have = tonumber(redis.call('HGET', Q .. 'askills:' .. name, s) or '0') end
    if have < l then return false end
  end
  return true
end

-- calls -------------------------------------------------------------------------------------
local function load_call(id)
  local c = hgetall(Q .. 'call:' .. id)
  if c.state == nil then return nil end
  c.id = id
  return c
end

-- the fields of a call that matching and offering read (cheaper than the whole hash)
local MATCH_FIELDS = {'state', 'kind', 'node', 'primary', 'level', 'alts', 'others', 'queue',
  'ring', 'request', 'attempts', 'sd', 'sh'}
local function load_call_for_match(id)
  local v = redis.call('HMGET', Q .. 'call:' .. id, unpack(MATCH_FIELDS))
  if not v[1] then return nil end
  local c = {id = id}
  for i, f in ipairs(MATCH_FIELDS) do c[f] = v[i] or nil end
  return c
end

-- the index keys a waiting call is in, for its primary skill, level and added skills now
local function call_index_keys(primary, level, alts)
  local keys, seen = {}, {}
  local function from(skill, lowest)
    local base = Q .. 'wait:' .. skill .. ':'
    for l = math.max(1, lowest), 5 do
      local key = base .. LV[l]
      if not seen[key] then seen[key] = true; keys[#keys + 1] = key end
    end
  end
  if primary == ANY then keys[1] = Q .. 'wait:' .. ANY else from(primary, level) end
  for s, l in pairs(alts) do from(s, l) end
  return keys
end

local function unindex_call(c)
  local id = c.id
  if c.level then
    local alts = cjson.decode(c.alts or '{}')
    for _, key in ipairs(call_index_keys(c.primary, tonumber(c.level), alts)) do
      redis.call('ZREM', key, id)
    end
  end
  redis.call('ZREM', Q .. 'queue:' .. c.queue, id)
  redis.call('ZREM', Q .. 'qarr:' .. c.queue, id)
  redis.call('ZREM', Q .. 'skwait:' .. c.primary, id)
  redis.call('ZREM', Q .. 'timers', 'c:' .. id)
end

-- place a waiting call in the indexes of the escalation step in force now
local function index_call(c)
  local sched = cjson.decode(c.sched)
  local waited = NOW - tonumber(c.qms)
  local step = 1
  for i, s in ipairs(sched) do
    if waited >= s[1] * 1000 then step = i end
  end
  local level, alts = sched[step][2], sched[step][3]
  local alts_json = cjson.encode(alts)
  if next(alts) == nil then alts_json = '{}' end
  redis.call('HSET', Q .. 'call:' .. c.id, 'level', fmt(level), 'alts', alts_json, 'step', step)
  c.level, c.alts = fmt(level), alts_json
  local score = c.score
  for _, key in ipairs(call_index_keys(c.primary, level, alts)) do
    redis.call('ZADD', key, score, c.id)
  end
  redis.call('ZADD', Q .. 'queue:' .. c.queue, score, c.id)
  redis.call('ZADD', Q .. 'qarr:' .. c.queue, c.qms, c.id)
  redis.call('ZADD', Q .. 'skwait:' .. c.primary, c.qms, c.id)
  if sched[step + 1] then
    redis.call('ZADD', Q .. 'timers', fmt(tonumber(c.qms) + sched[step + 1][1] * 1000), 'c:' .. c.id)
  end
end

-- `extra`: an agent available since NOW who is not in the indexes yet (PENDING); ranked as if
-- they were, so the pick is the same as with every free agent indexed
local function best_agent(c, extra)
  local others = cjson.decode(c.others or '{}')
  local level = tonumber(c.level)
  local x_main = nil
  if extra then
    local have = 5
    if c.primary ~= ANY then have = agent_skills(extra)[c.primary] or 0 end
    if have >= level and meets(extra, others) then x_main = -have * BAND + NOW end
  end
  local key, bound = Q .. 'avail:' .. c.primary, '(' .. fmt(-(level - 1) * BAND)
  local off = 0
  while true do
    local batch
    if x_main then
      batch = redis.call('ZRANGEBYSCORE', key, '-inf', bound, 'WITHSCORES', 'LIMIT', off, 32)
    else
      batch = redis.call('ZRANGEBYSCORE', key, '-inf', bound, 'LIMIT', off, 32)
    end
    if #batch == 0 then break end
    local step = x_main and 2 or 1
    for i = 1, #batch, step do
      local name = batch[i]
      if x_main then
        local sc = tonumber(batch[i + 1])
        if x_main < sc or (x_main == sc and extra < name) then return extra end
      end
      if meets(name, others) then return name end
    end
    off = off + 32
  end
  if x_main then return extra end
  local best, best_score = nil, nil
  for s, l in pairs(cjson.decode(c.alts or '{}')) do
    local r = redis.call('ZRANGEBYSCORE', Q .. 'avail:' .. s, '-inf', '(' .. fmt(-(l - 1) * BAND),
      'WITHSCORES', 'LIMIT', 0, 1)
    if #r > 0 then
      local sc = tonumber(r[2])
      if best == nil or sc < best_score or (sc == best_score and r[1] < best) then
        best, best_score = r[1], sc
      end
    end
    if extra then
      local have = agent_skills(extra)[s] or 0
      local sc = -have * BAND + NOW
      if have >= l and (best == nil or sc < best_score or (sc == best_score and extra < best)) then
        best, best_score = extra, sc
      end
    end
  end
  return best
end

-- an inbound call is held by a waiting loop on one controller process (its `node`) and is
-- offered only while that process is alive: it renews `node:<node>` every second, whatever its
-- callers are hearing. A call whose process died is not offered (its caller is in the
-- dialplan's fallback queue); `sweep` ends it once the process has been gone a while.
local function node_alive(node)
  if node == nil or node == false or node == '' then return true end
  return redis.call('EXISTS', Q .. 'node:' .. node) == 1
end
local function offerable_call(kind, node)
  return kind == 'callback' or node_alive(node)
end

local function best_call(name)
  local sources = {{key = Q .. 'wait:' .. ANY, skill = ANY, level = 5, pos = 0}}
  for s, lvl in pairs(agent_skills(name)) do
    local l = math.min(lvl, 5)
    sources[#sources + 1] = {key = Q .. 'wait:' .. s .. ':' .. lv(l), skill = s, level = l, pos = 0}
  end
  local function peek(src)
    local r = redis.call('ZRANGE', src.key, src.pos, src.pos, 'WITHSCORES')
    if #r == 0 then src.id = nil else src.id, src.score = r[1], tonumber(r[2]) end
  end
  for _, src in ipairs(sources) do peek(src) end
  for _ = 1, 2000 do
    local top = nil
    for _, src in ipairs(sources) do
      if src.id and (top == nil or src.score < top.score or (src.score == top.score and src.id < top.id)) then
        top = src
      end
    end
    if top == nil then return nil end
    local ch = redis.call('HMGET', Q .. 'call:' .. top.id, 'others', 'node', 'kind', 'alts')
    if offerable_call(ch[3], ch[2]) then
      -- in this set by escalation (the added skill at <= the agent's level), else by the main rule
      local added = ch[4] and ch[4] ~= '{}' and cjson.decode(ch[4])[top.skill]
      if (added and added <= top.level) or meets(name, cjson.decode(ch[1] or '{}')) then
        return top.id
      end
    end
    top.pos = top.pos + 1
    peek(top)
  end
  return nil
end

local offers  -- per run (run)

local function make_offer(c, name)
  unindex_call(c)
  local attempt = (tonumber(c.attempts) or 0) + 1
  local offer_id = c.id .. '-' .. attempt
  local a = redis.call('HMGET', Q .. 'agent:' .. name, 'ext', 'dial', 'state', 'since')
  redis.call('HSET', Q .. 'call:' .. c.id, 'state', 'offered', 'offer', offer_id, 'agent', name,
    'attempts', attempt)
  set_agent(name, 'offered', nil, c.id, offer_id, {a[3], a[4]})
  -- the agent's desk is open: the caller's side rings the phone once the pop is on the screen
  local desk = redis.call('EXISTS', Q .. 'desk:' .. name) == 1
  local json = J('offer_id', offer_id, 'call_id', c.id, 'agent', name, 'extension', a[1],
    'dial', a[2], 'ring_timeout_s', tonumber(c.ring), 'offered_at', NOW_ISO, 'kind', c.kind,
    'desk', raw(desk and 'true' or 'false'), 'request', raw(c.request))
  redis.call('HSET', Q .. 'offer:' .. offer_id, 'call', c.id, 'agent', name, 'kind', c.kind,
    'ms', NOW, 'json', json)
  -- an offer nobody acts on (its process died between the match and the Dial) is taken back
  redis.call('ZADD', Q .. 'timers', fmt(NOW + (tonumber(c.ring) + OFFER_GRACE_S) * 1000),
    'o:' .. offer_id)
  stat(c, 'offers', 1)
  emit('offers', 'offer', json)
  live('agent:' .. name, 'offer', json)
  live('queue_calls', 'offer', json)
  offers[#offers + 1] = json
end

local function match_call(id)
  local c = load_call_for_match(id)
  if c == nil or c.state ~= 'waiting' then return false end
  if not offerable_call(c.kind, c.node) then return false end
  local name = best_agent(c)
  if name == nil then return false end
  make_offer(c, name)
  return true
end

local function match_agent(name)
  local st = AGENT_STATE[name] or redis.call('HGET', Q .. 'agent:' .. name, 'state')
  if st ~= 'available' then return false end
  local pending = PENDING[name]
  if pending then
    if NOT_OFFERABLE[redis.call('HGET', Q .. 'devices', name) or ''] then return false end
  elseif redis.call('ZSCORE', Q .. 'avail:' .. ANY, name) == false then
    return false
  end
  local id = best_call(name)
  if id == nil then return false end
  local c = load_call_for_match(id)
  -- the call's best agent: under the matching invariant this is `name`
  local chosen = best_agent(c, pending and name or nil) or name
  make_offer(c, chosen)
  if chosen ~= name then match_agent(name) end
  return true
end

-- the agent has just become available (set_agent): the best waiting call they may take, else
-- into the free-agent indexes
local function agent_free(name)
  match_agent(name)
  if PENDING[name] then
    PENDING[name] = nil
    index_available(name, NOW)
  end
end

local function end_call(c, outcome, cause)
  unindex_call(c)
  if c.node and c.node ~= '' then redis.call('SREM', Q .. 'ncalls:' .. c.node, c.id) end
  if c.offer and c.offer ~= '' then redis.call('ZREM', Q .. 'timers', 'o:' .. c.offer) end
  local waited = NOW - tonumber(c.qms)
  local sd = tonumber(c.short_ms)
  if outcome == 'abandoned' then
    stat(c, 'abandoned', 1)
    stat(c, 'wait_abandoned_ms', waited)
    if waited < sd then stat(c, 'abandoned_short', 1) end
    if waited <= tonumber(c.sl_ms) then stat(c, 'abandoned_in_sl', 1) end
  elseif outcome == 'voicemail' or outcome == 'transferred' then
    stat(c, 'diverted', 1)
    stat(c, outcome, 1)
  end
  redis.call('DEL', Q .. 'call:' .. c.id)
  redis.call('SREM', Q .. 'calls', c.id)
  if c.uid and redis.call('GET', Q .. 'uid:' .. c.uid) == c.id then redis.call('DEL', Q .. 'uid:' .. c.uid) end
  if c.offer and c.offer ~= '' then redis.call('DEL', Q .. 'offer:' .. c.offer) end
  local ev
  if c.kind == 'callback' then  -- a callback says why its last failed attempt failed
    ev = J('call_id', c.id, 'outcome', outcome, 'cause', cause, 'at', NOW_ISO,
      'wait_s', waited / 1000, 'agent', nz(c.agent), 'queue', c.queue, 'kind', c.kind,
      'why', nz(c.cbwhy))
  else
    ev = J('call_id', c.id, 'outcome', outcome, 'cause', cause, 'at', NOW_ISO,
      'wait_s', waited / 1000, 'agent', nz(c.agent), 'queue', c.queue, 'kind', c.kind)
  end
  emit('queues', 'call_ended', ev)
  live('queue_calls', 'ended', ev)
end

local function requeue_head(c)
  redis.call('HSET', Q .. 'call:' .. c.id, 'state', 'waiting', 'offer', '', 'agent', '', 'head', 1)
  c.score = fmt(-tonumber(c.prio) * BAND + tonumber(c.qms) - HEAD)
  redis.call('HSET', Q .. 'call:' .. c.id, 'score', c.score)
  c.state = 'waiting'
  index_call(c)
  live('queue_calls', 'requeued', J('call_id', c.id))
end

local function load_offer(offer_id)
  local o = hgetall(Q .. 'offer:' .. offer_id)
  if o.call == nil then return nil end
  return o
end

local function next_due()
  local r = redis.call('ZRANGE', Q .. 'timers', 0, 0, 'WITHSCORES')
  if #r == 0 then return -1 end
  return tonumber(r[2])
end

local function agent_ended_call(name, c)
  local wrap = tonumber(c.wrap)
  redis.call('HSET', Q .. 'agent:' .. name, 'wq', c.queue, 'wsd', c.sd, 'wsh', c.sh, 'wp', c.primary)
  if wrap > 0 then
    set_agent(name, 'wrap_up', nil, c.id, nil, nil, NOW + wrap * 1000)
    redis.call('ZADD', Q .. 'timers', fmt(NOW + wrap * 1000), 'w:' .. name)
  else
    set_agent(name, 'available', nil, nil)
    agent_free(name)
  end
end

local function end_wrap_up(name)
  local a = redis.call('HMGET', Q .. 'agent:' .. name, 'state', 'since', 'wq', 'wsd', 'wsh', 'wp')
  redis.call('ZREM', Q .. 'timers', 'w:' .. name)
  if a[1] ~= 'wrap_up' then return false end
  stat({queue = a[3], sd = a[4], sh = a[5], primary = a[6]}, 'wrap_ms', NOW - tonumber(a[2]))
  set_agent(name, 'available', nil, nil)
  agent_free(name)
  return true
end

-- how a call leaves the router for good (`cause`: queues.model.EndCause)
local function close_call(c, cause)
  if c.consult and c.consult ~= '' then
    -- the caller left during a consult: the consulted agent is free again
    local offer_id = redis.call('HGET', Q .. 'agent:' .. c.consult, 'offer')
    if offer_id then redis.call('DEL', Q .. 'offer:' .. offer_id) end
    set_agent(c.consult, 'available', nil, nil)
    agent_free(c.consult)
    c.consult = ''
  end
  if c.xfers and c.xfers ~= '' and c.state ~= 'on_call' then
    -- answered once already, then transferred: never an abandon (docs/statistics.md)
    if c.state ~= 'external' then stat(c, 'transfers_lost', 1) end
    local agent = c.state == 'offered' and c.agent or nil
    end_call(c, 'answered', cause)
    if agent and agent ~= '' then
      set_agent(agent, 'available', nil, nil)
      agent_free(agent)
    end
    return
  end
  if c.state == 'on_call' then
    stat(c, 'talk_ms', NOW - tonumber(c.ams))
    stat(c, 'handled', 1)
    local agent = c.agent
    end_call(c, c.kind == 'callback' and 'callback' or 'answered', cause)
    agent_ended_call(agent, c)
    return
  end
  local outcome = 'abandoned'
  if cause == 'voicemail' then outcome = 'voicemail'
  elseif cause == 'fallback' then outcome = 'transferred'
  elseif c.kind == 'callback' then
    outcome = cause == 'callback_failed' and 'callback_failed' or 'callback'
    stat(c, 'callbacks_failed', 1)
  end
  local agent = c.state == 'offered' and c.agent or nil
  if cause == 'fallback' and c.uid and c.uid ~= '' then
    -- what the fallback queue makes of the caller is counted for the call's queue and period
    redis.call('HSET', Q .. 'fb:' .. c.uid, 'queue', c.queue, 'sd', c.sd, 'sh', c.sh,
      'primary', c.primary, 'call', c.id)
    redis.call('EXPIRE', Q .. 'fb:' .. c.uid, 86400)
  end
  end_call(c, outcome, cause)
  if agent and agent ~= '' then
    set_agent(agent, 'available', nil, nil)
    agent_free(agent)
  end
end

-- the offer did not connect the agent (`why`: no_answer, busy, expired): the caller goes back
-- to the head of the queue; a phone that rang out pauses its agent, a busy one is skipped a while
local function offer_failed(o, c, why)
  redis.call('DEL', Q .. 'offer:' .. c.offer)
  redis.call('ZREM', Q .. 'timers', 'o:' .. c.offer)
  stat(c, 'not_answered', 1)
  if why == 'no_answer' then
    set_agent(o.agent, 'paused', 'no_answer', nil)
  else
    if why == 'busy' then
      redis.call('HSET', Q .. 'devices', o.agent, 'BUSY')
      redis.call('ZADD', Q .. 'timers', fmt(NOW + BUSY_BACKOFF_S * 1000), 'b:' .. o.agent)
    end
    set_agent(o.agent, 'available', nil, nil)
    agent_free(o.agent)  -- a busy phone keeps the agent out of the indexes
  end
  requeue_head(c)
  match_call(c.id)
end

-- the controller process `node` is alive for `ttl` s more. When its key was missing (a new
-- process, or one that stalled past the ttl), its waiting callers may be offered again now.
local function beat(node, ttl)
  local was = redis.call('SET', Q .. 'node:' .. node, fmt(NOW), 'EX', tonumber(ttl), 'GET')
  redis.call('ZADD', Q .. 'nodes', fmt(NOW), node)
  if was then return false end
  for _, id in ipairs(redis.call('SMEMBERS', Q .. 'ncalls:' .. node)) do match_call(id) end
  return true
end

-- calls indexed by an older script (layout 1: one set per skill and exact level) move to the
-- current indexes once, by the first operation that finds the layout mark missing
local function migrate_layout()
  for _, id in ipairs(redis.call('SMEMBERS', Q .. 'calls')) do
    local c = load_call(id)
    if c and c.state == 'waiting' and c.level then
      redis.call('ZREM', Q .. 'wait:' .. c.primary .. ':' .. c.level, id)
      for s, l in pairs(cjson.decode(c.alts or '{}')) do
        redis.call('ZREM', Q .. 'walt:' .. s .. ':' .. fmt(l), id)
      end
      index_call(c)
    end
  end
  redis.call('SET', Q .. 'layout', LAYOUT)
end

-- operations ----------------------------------------------------------------------------------
-- OPS[op]: the transition named by ARGV[2], its arguments in A. It returns a reply to send as it
-- is, or nothing: then the reply is {result_status, next timer, offers made...}. An op that is
-- not a key here is refused. For EVALSHA only the function of the op asked for is built
-- (`built(name) and`; the others are false): the script builds each function again on every
-- call, and all fifteen with their upvalues cost ~9 us a call. The library builds them all, once.
local function built(op) return not BUILD_ONLY or BUILD_ONLY == op end
local OPS = {}
local result_status  -- per run (run)

-- A as name, value pairs; nil and an error naming the field when one is unknown or missing
local function named(op, fields)
  local t = {}
  for i = 1, #A, 2 do
    local name = A[i]
    if fields[name] == nil then return nil, op .. ': unknown field ' .. cjson.encode(name) end
    t[name] = A[i + 1]
  end
  for name, required in pairs(fields) do
    if required and t[name] == nil then return nil, op .. ': missing field ' .. cjson.encode(name) end
  end
  return t
end

OPS.enqueue = built('enqueue') and function()
  -- the fields by name (Router.enqueue sends name, value pairs); true: required, the others
  -- default as noted
  local ENQUEUE_FIELDS = {
    call_id = true, request = true,  -- the RoutingRequest, JSON as published in offers
    queue = true, priority = true,
    primary = true, others = true,  -- primary skill (or __any__); other skills' levels, JSON
    schedule = true,  -- escalation steps [[after_s, primary level, {added skill: level}], ...]
    ring_timeout_s = true, wrap_up_s = true, sl_within_s = true, short_abandon_s = true,
    uniqueid = true,
    node = false,  -- '': held by no process
    node_ttl_s = true,  -- with a node: queueing a caller is a heartbeat of its process
    callback_number = false,  -- '': an inbound caller; else a callback request
    callback_attempts = false, callback_retry_s = false,  -- the queue's callback policy: 3, 300
  }
  local fields, problem = named('enqueue', ENQUEUE_FIELDS)
  if fields == nil then return redis.error_reply(problem) end
  local id = fields.call_id
  if redis.call('EXISTS', Q .. 'call:' .. id) == 1 then return {'duplicate', next_due()} end
  local prio = tonumber(fields.priority)
  local c = {id = id, request = fields.request, queue = fields.queue, prio = fields.priority,
    primary = fields.primary, others = fields.others, sched = fields.schedule,
    ring = fields.ring_timeout_s, wrap = fields.wrap_up_s,
    sl_ms = fmt(tonumber(fields.sl_within_s) * 1000),
    short_ms = fmt(tonumber(fields.short_abandon_s) * 1000), uid = fields.uniqueid,
    sd = DAY, sh = HOUR, qms = fmt(NOW), state = 'waiting', kind = 'inbound', attempts = 0,
    head = 0, score = fmt(-prio * BAND + NOW), node = fields.node or '',
    cbnum = fields.callback_number or '', cbmax = fields.callback_attempts or '3',
    cbretry = fields.callback_retry_s or '300', cbtries = 0}
  if c.cbnum ~= '' then c.kind = 'callback' end
  if c.node ~= '' then
    redis.call('SADD', Q .. 'ncalls:' .. c.node, id)
    beat(c.node, fields.node_ttl_s)
  end
  local flat = {}
  for f, v in pairs(c) do
    if f ~= 'id' then flat[#flat + 1] = f; flat[#flat + 1] = v end
  end
  redis.call('HSET', Q .. 'call:' .. id, unpack(flat))
  redis.call('SADD', Q .. 'calls', id)
  redis.call('SET', Q .. 'uid:' .. c.uid, id)
  redis.call('SADD', Q .. 'periods', DAY)
  index_call(c)
  local pos = redis.call('ZRANK', Q .. 'queue:' .. c.queue, id) + 1
  redis.call('HSET', Q .. 'call:' .. id, 'entry_pos', pos)
  stat(c, 'entered', 1)
  if c.kind == 'callback' then
    stat(c, 'diverted', 1)
    stat(c, 'callbacks_requested', 1)
  end
  local ev = J('call_id', id, 'queue', c.queue, 'at', NOW_ISO, 'position', pos, 'uniqueid', c.uid,
    'request', raw(c.request))
  emit('queues', 'call_queued', ev)
  match_call(id)
end

OPS.agent_login = built('agent_login') and function()
  -- username, extension, dial, skills_json, state
  local name = A[1]
  local skills = cjson.decode(A[4])
  unindex_agent(name)
  redis.call('DEL', Q .. 'askills:' .. name)
  for s, l in pairs(skills) do redis.call('HSET', Q .. 'askills:' .. name, s, l) end
  SKILLS[name] = nil
  local old_dial = redis.call('HGET', Q .. 'agent:' .. name, 'dial')
  if old_dial then redis.call('HDEL', Q .. 'phones', string.lower(old_dial)) end
  redis.call('HSET', Q .. 'agent:' .. name, 'ext', A[2], 'dial', A[3])
  redis.call('HSET', Q .. 'phones', string.lower(A[3]), name)
  redis.call('SADD', Q .. 'agents', name)
  local st = redis.call('HGET', Q .. 'agent:' .. name, 'state')
  if st == 'offered' or st == 'on_call' or st == 'wrap_up' then
    index_agent(name)
  else
    set_agent(name, A[5], A[5] == 'paused' and 'login' or nil, nil)
    agent_free(name)
  end
end

OPS.agent_state = built('agent_state') and function()
  -- username, state, reason
  local name, want, reason = A[1], A[2], A[3]
  local cur = redis.call('HMGET', Q .. 'agent:' .. name, 'state', 'reason', 'since')
  local st, cur_reason = cur[1], cur[2]
  if st == false then return {'unknown_agent', next_due()} end
  if st == 'offered' or st == 'on_call' then return {'busy:' .. st, next_due()} end
  if st == want and (want ~= 'paused' or cur_reason == reason) then return {'ok', next_due()} end
  if st == 'wrap_up' then
    if want == 'available' then
      end_wrap_up(name)
      return {'ok', next_due(), unpack(offers)}
    end
    redis.call('ZREM', Q .. 'timers', 'w:' .. name)
    local a = redis.call('HMGET', Q .. 'agent:' .. name, 'since', 'wq', 'wsd', 'wsh', 'wp')
    stat({queue = a[2], sd = a[3], sh = a[4], primary = a[5]}, 'wrap_ms', NOW - tonumber(a[1]))
  end
  local prev = {st, cur[3]}
  if want == 'paused' then
    set_agent(name, 'paused', reason, nil, nil, prev)
  else
    set_agent(name, want, nil, nil, nil, prev)
  end
  if want == 'available' then agent_free(name) end
end

OPS.device = built('device') and function()
  -- username, device state
  -- kept apart from the agent's hash: a phone's state may be known before the agent logs in
  local name = A[1]
  redis.call('HSET', Q .. 'devices', name, A[2])
  redis.call('ZREM', Q .. 'timers', 'b:' .. name)  -- Asterisk's word replaces our busy guess
  if redis.call('EXISTS', Q .. 'agent:' .. name) == 1 and index_agent(name) then match_agent(name) end
end

OPS.answered = built('answered') and function()
  -- offer_id
  local o = load_offer(A[1])
  if o == nil then return {'no_offer', next_due()} end
  local c = load_call(o.call)
  if c == nil or c.state ~= 'offered' or c.offer ~= A[1] then return {'stale', next_due()} end
  -- the answer may be reported late (Dial returns when the talk ends): A[2] = when it happened
  local at = tonumber(A[2] or '') or NOW
  if at > NOW or at < tonumber(c.qms) then at = NOW end
  local waited = at - tonumber(c.qms)
  redis.call('ZREM', Q .. 'timers', 'o:' .. A[1])
  redis.call('HSET', Q .. 'call:' .. c.id, 'state', 'on_call', 'ams', fmt(at))
  set_agent(o.agent, 'on_call', nil, c.id)
  local answered_event = 'call_answered'
  if c.xfers and c.xfers ~= '' then
    -- a transferred call was answered (and counted) once, by the first agent
    stat(c, 'transfers_answered', 1)
    answered_event = 'transfer_answered'
  elseif c.kind == 'callback' then
    stat(c, 'callbacks_answered', 1)
  else
    stat(c, 'answered', 1)
    stat(c, 'wait_answered_ms', waited)
    if waited <= tonumber(c.sl_ms) then stat(c, 'answered_in_sl', 1) end
    redis.call('LPUSH', Q .. 'recent:' .. c.queue, fmt(waited) .. ':' .. (c.entry_pos or '1'))
    redis.call('LTRIM', Q .. 'recent:' .. c.queue, 0, 19)
  end
  local ev = J('call_id', c.id, 'agent', o.agent, 'at', NOW_ISO, 'wait_s', waited / 1000,
    'kind', c.kind, 'queue', c.queue)
  emit('queues', answered_event, ev)
  live('queue_calls', 'answered', ev)
end

OPS.not_answered = built('not_answered') and function()
  -- offer_id, why (no_answer | busy | failed)
  local o = load_offer(A[1])
  if o == nil then return {'no_offer', next_due()} end
  local c = load_call(o.call)
  if c == nil or c.state ~= 'offered' or c.offer ~= A[1] then
    redis.call('DEL', Q .. 'offer:' .. A[1])
    redis.call('ZREM', Q .. 'timers', 'o:' .. A[1])
    return {'stale', next_due()}
  end
  offer_failed(o, c, A[2] == 'busy' and 'busy' or 'no_answer')
end

OPS.transfer = built('transfer') and function()
  -- the agent on the call sends the caller elsewhere (queues.model.TransferKind): the agent's
  -- leg ends (counted handled, the agent wraps up), the call is offered to the target agent,
  -- queued again (at the head of its priority), or leaves for a second-line number. Refusals:
  -- not_on_call, agent_unavailable:<state>, same_agent.
  local f, problem = named('transfer', {
    call_id = true, agent = true, kind = true, to = true,
    request = true,  -- the RoutingRequest with the handover (notes, ticket draft) for the next desk
    queue = false, priority = false, primary = false, others = false, schedule = false,
    ring_timeout_s = false, wrap_up_s = false, sl_within_s = false,
  })
  if f == nil then return redis.error_reply(problem) end
  local c = load_call(f.call_id)
  if c == nil or c.state ~= 'on_call' or c.agent ~= f.agent or c.kind == 'callback' then
    return {'not_on_call', next_due()}
  end
  if f.kind == 'agent' then
    if f.to == f.agent then return {'same_agent', next_due()} end
    local st = redis.call('HGET', Q .. 'agent:' .. f.to, 'state')
    if st ~= 'available' then return {'agent_unavailable:' .. (st or 'logged_out'), next_due()} end
    if NOT_OFFERABLE[redis.call('HGET', Q .. 'devices', f.to) or ''] then
      return {'agent_unavailable:phone_busy', next_due()}
    end
  end
  local key = Q .. 'call:' .. c.id
  stat(c, 'talk_ms', NOW - tonumber(c.ams))
  stat(c, 'handled', 1)
  stat(c, 'transfers_out', 1)
  local from_queue = c.queue
  local xfers = cjson.decode(c.xfers or '[]')
  xfers[#xfers + 1] = {from = f.agent, kind = f.kind, to = f.to, at = NOW_ISO}
  local xjson = cjson.encode(xfers)
  agent_ended_call(f.agent, c)
  redis.call('HSET', key, 'request', f.request, 'xfers', xjson, 'agent', '', 'offer', '')
  c.request, c.xfers, c.agent, c.offer = f.request, xjson, '', ''
  if f.kind == 'number' then
    redis.call('HSET', key, 'state', 'external', 'xto', f.to)
  else
    if f.kind == 'queue' or f.kind == 'skill' then
      c.queue, c.primary, c.others, c.sched = f.queue, f.primary, f.others, f.schedule
      c.ring, c.wrap = f.ring_timeout_s, f.wrap_up_s
      c.sl_ms = fmt(tonumber(f.sl_within_s) * 1000)
      c.prio = f.priority
    end
    -- waiting again from now (escalation counts from here), first among its priority
    c.qms = fmt(NOW)
    c.score = fmt(-tonumber(c.prio) * BAND + NOW - HEAD)
    c.state = 'waiting'
    redis.call('HSET', key, 'state', 'waiting', 'queue', c.queue, 'primary', c.primary,
      'others', c.others, 'sched', c.sched, 'ring', c.ring, 'wrap', c.wrap, 'sl_ms', c.sl_ms,
      'prio', c.prio, 'qms', c.qms, 'score', c.score, 'head', 1)
    stat(c, 'transfers_in', 1)
    if f.kind == 'agent' then
      make_offer(c, f.to)
    else
      index_call(c)
    end
  end
  local ev = J('call_id', c.id, 'agent', f.agent, 'kind', f.kind, 'to', f.to, 'at', NOW_ISO,
    'queue', from_queue, 'transfers', raw(xjson))
  emit('queues', 'call_transferred', ev)
  live('queue_calls', 'transferred', ev)
  if f.kind == 'queue' or f.kind == 'skill' then match_call(c.id) end
end

OPS.consult = built('consult') and function()
  -- call_id, agent, target, request, leg (the agent's channel, which the PBX's attended transfer
  -- moves): the agent on the call consults `target` while the caller
  -- is on hold (the PBX's attended transfer). The target is reserved (offered, reason consult)
  -- and their desk pops the call; nothing is dialled by the caller's side. Refusals as transfer.
  local c = load_call(A[1])
  local agent, to = A[2], A[3]
  if c == nil or c.state ~= 'on_call' or c.agent ~= agent or c.kind == 'callback' then
    return {'not_on_call', next_due()}
  end
  if c.consult and c.consult ~= '' then return {'consulting', next_due()} end
  if to == agent then return {'same_agent', next_due()} end
  local a = redis.call('HMGET', Q .. 'agent:' .. to, 'state', 'since', 'ext', 'dial')
  if a[1] ~= 'available' then return {'agent_unavailable:' .. (a[1] or 'logged_out'), next_due()} end
  if NOT_OFFERABLE[redis.call('HGET', Q .. 'devices', to) or ''] then
    return {'agent_unavailable:phone_busy', next_due()}
  end
  local offer_id = c.id .. '-consult-' .. ((tonumber(c.attempts) or 0) + 1)
  redis.call('HSET', Q .. 'call:' .. c.id, 'consult', to, 'request', A[4], 'xchan', A[5] or '',
    'attempts', (tonumber(c.attempts) or 0) + 1)
  set_agent(to, 'offered', 'consult', c.id, offer_id, {a[1], a[2]})
  local json = J('offer_id', offer_id, 'call_id', c.id, 'agent', to, 'extension', a[3],
    'dial', a[4], 'ring_timeout_s', tonumber(c.ring), 'offered_at', NOW_ISO, 'kind', c.kind,
    'desk', raw('false'), 'request', raw(A[4]))
  redis.call('HSET', Q .. 'offer:' .. offer_id, 'call', c.id, 'agent', to, 'kind', c.kind,
    'ms', NOW, 'json', json)
  live('agent:' .. to, 'offer', json)
  emit('queues', 'consult_started', J('call_id', c.id, 'agent', agent, 'to', to, 'at', NOW_ISO,
    'queue', c.queue))
end

OPS.consult_end = built('consult_end') and function()
  -- call_id, agent, complete | cancel: the consulted agent takes the caller over (the first
  -- agent wraps up; counted as a transfer answered at once), or goes back to available
  local c = load_call(A[1])
  local agent, how = A[2], A[3]
  if c == nil or c.state ~= 'on_call' or c.agent ~= agent or not c.consult or c.consult == '' then
    return {'not_consulting', next_due()}
  end
  local to = c.consult
  local offer_id = redis.call('HGET', Q .. 'agent:' .. to, 'offer')
  if offer_id then redis.call('DEL', Q .. 'offer:' .. offer_id) end
  redis.call('HSET', Q .. 'call:' .. c.id, 'consult', '')
  c.consult = ''
  if how ~= 'complete' then
    set_agent(to, 'available', nil, nil)
    agent_free(to)
    emit('queues', 'consult_cancelled', J('call_id', c.id, 'agent', agent, 'to', to,
      'at', NOW_ISO, 'queue', c.queue))
    return
  end
  stat(c, 'talk_ms', NOW - tonumber(c.ams))
  stat(c, 'handled', 1)
  stat(c, 'transfers_out', 1)
  stat(c, 'transfers_in', 1)
  stat(c, 'transfers_answered', 1)
  local xfers = cjson.decode(c.xfers or '[]')
  xfers[#xfers + 1] = {from = agent, kind = 'consult', to = to, at = NOW_ISO}
  local xjson = cjson.encode(xfers)
  agent_ended_call(agent, c)
  redis.call('HSET', Q .. 'call:' .. c.id, 'agent', to, 'offer', '', 'ams', fmt(NOW), 'xfers', xjson)
  set_agent(to, 'on_call', nil, c.id)
  local ev = J('call_id', c.id, 'agent', agent, 'kind', 'consult', 'to', to, 'at', NOW_ISO,
    'queue', c.queue, 'transfers', raw(xjson))
  emit('queues', 'call_transferred', ev)
  live('queue_calls', 'consulted', ev)
  emit('queues', 'transfer_answered', J('call_id', c.id, 'agent', to, 'at', NOW_ISO, 'wait_s', 0,
    'kind', c.kind, 'queue', c.queue))
end

OPS.callback = built('callback') and function()
  -- call_id, number: the caller leaves a callback request and keeps their place
  local c = load_call(A[1])
  if c == nil or c.state ~= 'waiting' then return {'not_waiting', next_due()} end
  redis.call('HSET', Q .. 'call:' .. c.id, 'kind', 'callback', 'cbnum', A[2])
  stat(c, 'diverted', 1)
  stat(c, 'callbacks_requested', 1)
  emit('queues', 'callback_requested', J('call_id', c.id, 'number', A[2], 'at', NOW_ISO,
    'queue', c.queue))
  live('queue_calls', 'callback', J('call_id', c.id))
  -- nobody is on the line any more: an agent free now calls back at once
  match_call(c.id)
end

OPS.call_ended = built('call_ended') and function()
  -- call_id, cause
  local c = load_call(A[1])
  if c == nil then return {'unknown_call', next_due()} end
  close_call(c, A[2])
end

OPS.tick = built('tick') and function()
  local due = redis.call('ZRANGEBYSCORE', Q .. 'timers', '-inf', fmt(NOW), 'LIMIT', 0, 500)
  local calls, agents = {}, {}
  for _, m in ipairs(due) do
    redis.call('ZREM', Q .. 'timers', m)
    local kind, id = string.sub(m, 1, 1), string.sub(m, 3)
    if kind == 'c' then
      local c = load_call(id)
      if c and c.state == 'waiting' then
        unindex_call(c)
        index_call(c)
        calls[#calls + 1] = id
      end
    elseif kind == 'w' then
      end_wrap_up(id)
    elseif kind == 'o' then
      local o = load_offer(id)
      local c = o and load_call(o.call)
      if c and c.state == 'offered' and c.offer == id then
        emit('queues', 'offer_expired', J('call_id', c.id, 'offer_id', id, 'agent', o.agent,
          'at', NOW_ISO))
        offer_failed(o, c, 'expired')
      end
    elseif kind == 'r' then
      -- a callback's next attempt is due: back to the head of its queue
      local c = load_call(id)
      if c and c.state == 'scheduled' then
        requeue_head(c)
        calls[#calls + 1] = id
      end
    elseif kind == 'b' then
      -- the busy back-off is over and AMI said nothing since: the phone may be tried again
      if redis.call('HGET', Q .. 'devices', id) == 'BUSY' then
        redis.call('HSET', Q .. 'devices', id, 'UNKNOWN')
        if redis.call('EXISTS', Q .. 'agent:' .. id) == 1 and index_agent(id) then
          match_agent(id)
        end
      end
    end
  end
  for _, id in ipairs(calls) do match_call(id) end
end

OPS.node = built('node') and function()
  -- node, ttl_s: a controller process is alive (every second)
  if beat(A[1], A[2]) then result_status = 'returned' end
end

OPS.callback_attempt = built('callback_attempt') and function()
  -- call_id, result (reached | failed), why: the citizen's leg of a callback. `failed` (busy,
  -- no answer, unreachable, or the Originate itself failed) uses one of the queue's attempts:
  -- the callback is tried again after `callback_retry_s`, or, with none left, it has failed.
  local c = load_call(A[1])
  if c == nil or c.kind ~= 'callback' then return {'unknown_call', next_due()} end
  if A[2] == 'reached' then
    if c.state == 'on_call' then redis.call('HSET', Q .. 'call:' .. c.id, 'reached', '1') end
    return {'ok', next_due()}
  end
  if c.state ~= 'offered' and c.state ~= 'on_call' then return {'stale', next_due()} end
  local agent, was = c.agent, c.state
  if was == 'offered' then
    redis.call('DEL', Q .. 'offer:' .. c.offer)
    redis.call('ZREM', Q .. 'timers', 'o:' .. c.offer)
  end
  local tries = (tonumber(c.cbtries) or 0) + 1
  local why = A[3] or ''
  local ev = J('call_id', c.id, 'number', c.cbnum, 'attempt', tries,
    'attempts', tonumber(c.cbmax) or 3, 'why', why, 'agent', nz(agent), 'at', NOW_ISO,
    'queue', c.queue)
  if tries >= (tonumber(c.cbmax) or 3) then
    redis.call('HSET', Q .. 'call:' .. c.id, 'cbtries', tries, 'cbwhy', why)
    c.cbtries, c.cbwhy = tries, why
    emit('queues', 'callback_failed', ev)
    c.state = 'waiting'  -- its agent is freed below, not by close_call
    close_call(c, 'callback_failed')
  else
    local retry_at = NOW + (tonumber(c.cbretry) or 300) * 1000
    redis.call('HSET', Q .. 'call:' .. c.id, 'state', 'scheduled', 'offer', '', 'agent', '',
      'cbtries', tries, 'cbwhy', why, 'reached', '')
    redis.call('ZADD', Q .. 'timers', fmt(retry_at), 'r:' .. c.id)
    emit('queues', 'callback_retry', ev)
  end
  if agent and agent ~= '' then
    if was == 'on_call' then
      agent_ended_call(agent, c)  -- the agent may note the attempt in wrap-up
    else
      set_agent(agent, 'available', nil, nil)
      agent_free(agent)
    end
  end
end

OPS.fallback = built('fallback') and function()
  -- uniqueid, stage (joined | answered | abandoned), agent: the dialplan's fallback queue
  -- (AMI QueueCallerJoin / AgentConnect / QueueCallerAbandon). Every node sees the event;
  -- the first one counts it.
  local uid, stage = A[1], A[2]
  if not redis.call('SET', Q .. 'fbseen:' .. uid .. ':' .. stage, '1', 'NX', 'EX', 86400) then
    return {'seen', next_due()}
  end
  local call_id = redis.call('GET', Q .. 'uid:' .. uid)
  if stage == 'joined' and call_id then
    local c = load_call(call_id)
    if c and c.state ~= 'on_call' then close_call(c, 'fallback') end
  end
  local f = hgetall(Q .. 'fb:' .. uid)
  if stage ~= 'joined' and f.queue then stat(f, 'fallback_' .. stage, 1) end
  emit('queues', 'call_fallback', J('uniqueid', uid, 'stage', stage, 'at', NOW_ISO,
    'call_id', nz(f.call or call_id), 'queue', nz(f.queue), 'agent', nz(A[3])))
end

OPS.node_gone = built('node_gone') and function()
  -- node: the process stops; its callers are back in the dialplan (SIGTERM)
  redis.call('DEL', Q .. 'node:' .. A[1])
end

OPS.sweep = built('sweep') and function()
  -- ghost_after_s. What events should have done, checked again (both counts should stay 0):
  -- 1) no waiting call that may be offered stays beside a free agent who may take it;
  local matched = 0
  if redis.call('ZCARD', Q .. 'avail:' .. ANY) > 0 and redis.call('SCARD', Q .. 'calls') > 0 then
    for _, name in ipairs(redis.call('ZRANGE', Q .. 'avail:' .. ANY, 0, -1)) do
      if match_agent(name) then matched = matched + 1 end
    end
  end
  -- 2) calls held by a process gone longer than ghost_after_s are ended: their callers went to
  -- the dialplan's fallback queue (or hung up) when the process died
  local ghosts = 0
  local limit = NOW - tonumber(A[1]) * 1000
  for _, node in ipairs(redis.call('ZRANGEBYSCORE', Q .. 'nodes', '-inf', fmt(limit))) do
    if redis.call('EXISTS', Q .. 'node:' .. node) == 0 then
      for _, id in ipairs(redis.call('SMEMBERS', Q .. 'ncalls:' .. node)) do
        local c = load_call(id)
        -- a bridged call goes on without us (Asterisk holds it): its Hangup will end it
        if c and c.kind ~= 'callback' and c.state ~= 'on_call' then
          close_call(c, 'fallback')
          ghosts = ghosts + 1
        end
      end
      redis.call('DEL', Q .. 'ncalls:' .. node)
      redis.call('ZREM', Q .. 'nodes', node)
    end
  end
  result_status = 'swept:' .. matched .. ':' .. ghosts
end

-- nothing but the next timer (Router.next_due_ms)
OPS.noop = built('noop') and function() end

-- one call: the run's state set afresh (the library keeps these locals between calls)
local function run(argv)
  P, OP = argv[1], argv[2]
  NOW, NOW_ISO, DAY, HOUR = tonumber(argv[3]), argv[4], argv[5], argv[6]
  A = {}
  for i = 7, #argv do A[#A + 1] = argv[i] end
  Q = P .. ':q:'
  LIVE_CHANNELS, LIVE = {}, {}
  EXPIRING, SKILLS, PENDING, AGENT_STATE, offers = {}, {}, {}, {}, {}
  result_status = 'ok'
  local op = OPS[OP]
  if not op then
    -- no such op (the op asked for is never false). Refused before anything is written: a
    -- misspelt op must not pass for one that did nothing.
    return redis.error_reply('unknown router operation ' .. cjson.encode(tostring(OP)))
  end
  if redis.call('GET', Q .. 'layout') ~= LAYOUT then migrate_layout() end
  local reply = op()
  flush_live()
  if reply then return reply end

  -- every path above settles its agents; this keeps the indexes whole should one not
  for name, _ in pairs(PENDING) do
    PENDING[name] = nil
    index_available(name, NOW)
  end
  return {result_status, next_due(), unpack(offers)}
end

return run(ARGV)
