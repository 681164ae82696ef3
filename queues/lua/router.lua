-- The router's state transitions on Redis, each one atomic (one EVALSHA = one transition plus
-- the matching it enables). Several controller processes share one Redis; this script is their
-- serialisation point, so no agent ever gets two calls and no call two agents.
--
-- ARGV: prefix, op, now_ms, now_iso, day, hour, op arguments...
-- Scores: waiting calls  -priority*BAND + queued_ms  (minus HEAD for callers sent back to the head)
--         available agents  -level*BAND + idle_since_ms
-- so ZRANGE order is the policy order (ties: member name), see queues/policy.py.

local P, OP = ARGV[1], ARGV[2]
local NOW, NOW_ISO, DAY, HOUR = tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local A = {}
for i = 7, #ARGV do A[#A + 1] = ARGV[i] end

local BAND = 10000000000000
local HEAD = 4000000000000
local ANY = '__any__'
local NOT_OFFERABLE = {INUSE = 1, BUSY = 1, UNAVAILABLE = 1, RINGING = 1, RINGINUSE = 1,
  ONHOLD = 1, INVALID = 1}

local function k(...) return P .. ':q:' .. table.concat({...}, ':') end
local function fmt(n) return string.format('%.0f', n) end
local NULL = {}
local function raw(s) return {raw = s} end
local function J(...)
  local t, parts = {...}, {}
  for i = 1, #t, 2 do
    local v = t[i + 1]
    local enc
    if v == NULL or v == nil or v == false then enc = 'null'
    elseif type(v) == 'table' then enc = v.raw
    elseif type(v) == 'number' then enc = fmt(v)
    else enc = cjson.encode(tostring(v)) end
    parts[#parts + 1] = cjson.encode(t[i]) .. ':' .. enc
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function emit(stream, typ, json)
  redis.call('XADD', P .. ':stream:' .. stream, 'MAXLEN', '~', '100000', '*', 'type', typ, 'data', json)
end
local function live(channel, typ, json)
  redis.call('PUBLISH', P .. ':live:' .. channel, '{"type":' .. cjson.encode(typ) .. ',"data":' .. json .. '}')
end
local function nz(s) if s == nil or s == false or s == '' then return NULL end return s end
local function hgetall(key)
  local flat, t = redis.call('HGETALL', key), {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- statistics: a call counts in the day and hour it entered the queue (kept on the call)
local function stat(call, field, by)
  for _, period in ipairs({'d:' .. call.sd, 'h:' .. call.sh}) do
    redis.call('HINCRBY', k('st', period, 'q', call.queue), field, by)
    redis.call('HINCRBY', k('st', period, 's', call.primary), field, by)
  end
end
local function periods_add(kind, field, by)
  redis.call('HINCRBY', k('st', 'd:' .. DAY, kind), field, by)
  redis.call('HINCRBY', k('st', 'h:' .. HOUR, kind), field, by)
end

-- agents ------------------------------------------------------------------------------------
local function agent_skills(name)
  local t = hgetall(k('askills', name))
  local out = {}
  for s, l in pairs(t) do out[s] = tonumber(l) end
  return out
end

local function unindex_agent(name)
  for s, _ in pairs(agent_skills(name)) do redis.call('ZREM', k('avail', s), name) end
  redis.call('ZREM', k('avail', ANY), name)
end

local function index_agent(name)
  local a = redis.call('HMGET', k('agent', name), 'state', 'idle')
  local dev = redis.call('HGET', k('devices'), name) or ''
  if a[1] ~= 'available' or NOT_OFFERABLE[dev] then
    unindex_agent(name)
    return false
  end
  local idle = tonumber(a[2]) or NOW
  for s, l in pairs(agent_skills(name)) do
    redis.call('ZADD', k('avail', s), fmt(-l * BAND + idle), name)
  end
  redis.call('ZADD', k('avail', ANY), fmt(-5 * BAND + idle), name)
  return true
end

local function set_agent(name, state, reason, call_id, offer_id, until_ms)
  local ak = k('agent', name)
  local prev = redis.call('HMGET', ak, 'state', 'since')
  if prev[1] and prev[2] then
    local dur = NOW - tonumber(prev[2])
    if dur < 0 then dur = 0 end
    periods_add('agents', prev[1] .. '_ms', dur)
  end
  local fields = {'state', state, 'reason', reason or '', 'since', NOW, 'since_iso', NOW_ISO,
    'call', call_id or '', 'offer', offer_id or ''}
  if state == 'available' then fields[#fields + 1] = 'idle'; fields[#fields + 1] = NOW end
  redis.call('HSET', ak, unpack(fields))
  index_agent(name)
  local ev = J('agent', name, 'state', state, 'reason', nz(reason), 'since', NOW_ISO,
    'call_id', nz(call_id), 'until_ms', until_ms or NULL)
  emit('queues', 'agent_state', ev)
  live('agents', 'agent_state', ev)
  -- the agent's own desk listens on its own channel only (not to every agent's changes)
  live('agent:' .. name, 'agent_state', ev)
end

local function meets(name, others)
  for s, l in pairs(others) do
    local have = tonumber(redis.call('HGET', k('askills', name), s) or '0')
    if have < l then return false end
  end
  return true
end

-- calls -------------------------------------------------------------------------------------
local function load_call(id)
  local c = hgetall(k('call', id))
  if c.state == nil then return nil end
  c.id = id
  return c
end

local function unindex_call(c)
  redis.call('ZREM', k('wait', c.primary, c.level), c.id)
  for s, l in pairs(cjson.decode(c.alts or '{}')) do
    redis.call('ZREM', k('walt', s, fmt(l)), c.id)
  end
  redis.call('ZREM', k('queue', c.queue), c.id)
  redis.call('ZREM', k('qarr', c.queue), c.id)
  redis.call('ZREM', k('skwait', c.primary), c.id)
  redis.call('ZREM', k('timers'), 'c:' .. c.id)
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
  redis.call('HSET', k('call', c.id), 'level', fmt(level), 'alts', alts_json, 'step', step)
  c.level, c.alts = fmt(level), alts_json
  local score = c.score
  redis.call('ZADD', k('wait', c.primary, c.level), score, c.id)
  for s, l in pairs(alts) do redis.call('ZADD', k('walt', s, fmt(l)), score, c.id) end
  redis.call('ZADD', k('queue', c.queue), score, c.id)
  redis.call('ZADD', k('qarr', c.queue), c.qms, c.id)
  redis.call('ZADD', k('skwait', c.primary), c.qms, c.id)
  if sched[step + 1] then
    redis.call('ZADD', k('timers'), fmt(tonumber(c.qms) + sched[step + 1][1] * 1000), 'c:' .. c.id)
  end
end

local function best_agent(c)
  local others = cjson.decode(c.others or '{}')
  local bound = '(' .. fmt(-(tonumber(c.level) - 1) * BAND)
  local off = 0
  while true do
    local batch = redis.call('ZRANGEBYSCORE', k('avail', c.primary), '-inf', bound, 'LIMIT', off, 32)
    if #batch == 0 then break end
    for _, name in ipairs(batch) do
      if meets(name, others) then return name end
    end
    off = off + 32
  end
  local best, best_score = nil, nil
  for s, l in pairs(cjson.decode(c.alts or '{}')) do
    local r = redis.call('ZRANGEBYSCORE', k('avail', s), '-inf', '(' .. fmt(-(l - 1) * BAND),
      'WITHSCORES', 'LIMIT', 0, 1)
    if #r > 0 then
      local sc = tonumber(r[2])
      if best == nil or sc < best_score or (sc == best_score and r[1] < best) then
        best, best_score = r[1], sc
      end
    end
  end
  return best
end

-- an inbound call held by a waiting loop is offered only while that loop is alive (it renews
-- `waiter:<id>`); a call whose controller died stays queued until its channel hangs up (AMI)
local function offerable_call(id, needw)
  if needw ~= '1' then return true end
  return redis.call('EXISTS', k('waiter', id)) == 1
end

local function best_call(name)
  local skills = agent_skills(name)
  skills[ANY] = 5
  local sources = {}
  for s, lvl in pairs(skills) do
    for l = 1, lvl do
      sources[#sources + 1] = {key = k('wait', s, fmt(l)), main = true, pos = 0}
      if s ~= ANY then sources[#sources + 1] = {key = k('walt', s, fmt(l)), main = false, pos = 0} end
    end
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
    local ch = redis.call('HMGET', k('call', top.id), 'others', 'needw', 'kind')
    local held = ch[3] == 'callback' or offerable_call(top.id, ch[2])
    if held and (not top.main or meets(name, cjson.decode(ch[1] or '{}'))) then return top.id end
    top.pos = top.pos + 1
    peek(top)
  end
  return nil
end

local offers = {}

local function make_offer(c, name)
  unindex_call(c)
  local attempt = redis.call('HINCRBY', k('call', c.id), 'attempts', 1)
  local offer_id = c.id .. '-' .. attempt
  local a = redis.call('HMGET', k('agent', name), 'ext', 'dial')
  redis.call('HSET', k('call', c.id), 'state', 'offered', 'offer', offer_id, 'agent', name)
  set_agent(name, 'offered', nil, c.id, offer_id)
  local json = J('offer_id', offer_id, 'call_id', c.id, 'agent', name, 'extension', a[1],
    'dial', a[2], 'ring_timeout_s', tonumber(c.ring), 'offered_at', NOW_ISO, 'kind', c.kind,
    'request', raw(c.request))
  redis.call('HSET', k('offer', offer_id), 'call', c.id, 'agent', name, 'kind', c.kind, 'ms', NOW,
    'json', json)
  stat(c, 'offers', 1)
  emit('offers', 'offer', json)
  live('agent:' .. name, 'offer', json)
  live('queue_calls', 'offer', json)
  offers[#offers + 1] = json
end

local function match_call(id)
  local c = load_call(id)
  if c == nil or c.state ~= 'waiting' then return false end
  if c.kind ~= 'callback' and not offerable_call(id, c.needw) then return false end
  local name = best_agent(c)
  if name == nil then return false end
  make_offer(c, name)
  return true
end

local function match_agent(name)
  local st = redis.call('HGET', k('agent', name), 'state')
  if st ~= 'available' then return false end
  if redis.call('ZSCORE', k('avail', ANY), name) == false then return false end
  local id = best_call(name)
  if id == nil then return false end
  local c = load_call(id)
  -- the call's best agent: under the matching invariant this is `name`
  local chosen = best_agent(c) or name
  make_offer(c, chosen)
  if chosen ~= name then match_agent(name) end
  return true
end

local function end_call(c, outcome, cause)
  unindex_call(c)
  redis.call('DEL', k('waiter', c.id))
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
  redis.call('DEL', k('call', c.id))
  redis.call('SREM', k('calls'), c.id)
  if c.uid and redis.call('GET', k('uid', c.uid)) == c.id then redis.call('DEL', k('uid', c.uid)) end
  if c.offer and c.offer ~= '' then redis.call('DEL', k('offer', c.offer)) end
  local ev = J('call_id', c.id, 'outcome', outcome, 'cause', cause, 'at', NOW_ISO,
    'wait_s', waited / 1000, 'agent', nz(c.agent), 'queue', c.queue, 'kind', c.kind)
  emit('queues', 'call_ended', ev)
  live('queue_calls', 'ended', ev)
end

local function requeue_head(c)
  redis.call('HSET', k('call', c.id), 'state', 'waiting', 'offer', '', 'agent', '', 'head', 1)
  c.score = fmt(-tonumber(c.prio) * BAND + tonumber(c.qms) - HEAD)
  redis.call('HSET', k('call', c.id), 'score', c.score)
  c.state = 'waiting'
  index_call(c)
  live('queue_calls', 'requeued', J('call_id', c.id))
end

local function load_offer(offer_id)
  local o = hgetall(k('offer', offer_id))
  if o.call == nil then return nil end
  return o
end

local function next_due()
  local r = redis.call('ZRANGE', k('timers'), 0, 0, 'WITHSCORES')
  if #r == 0 then return -1 end
  return tonumber(r[2])
end

local function agent_ended_call(name, c)
  local wrap = tonumber(c.wrap)
  redis.call('HSET', k('agent', name), 'wq', c.queue, 'wsd', c.sd, 'wsh', c.sh, 'wp', c.primary)
  if wrap > 0 then
    set_agent(name, 'wrap_up', nil, c.id, nil, NOW + wrap * 1000)
    redis.call('ZADD', k('timers'), fmt(NOW + wrap * 1000), 'w:' .. name)
  else
    set_agent(name, 'available', nil, nil)
    match_agent(name)
  end
end

local function end_wrap_up(name)
  local a = redis.call('HMGET', k('agent', name), 'state', 'since', 'wq', 'wsd', 'wsh', 'wp')
  redis.call('ZREM', k('timers'), 'w:' .. name)
  if a[1] ~= 'wrap_up' then return false end
  stat({queue = a[3], sd = a[4], sh = a[5], primary = a[6]}, 'wrap_ms', NOW - tonumber(a[2]))
  set_agent(name, 'available', nil, nil)
  match_agent(name)
  return true
end

-- operations ----------------------------------------------------------------------------------
local result_status = 'ok'

if OP == 'enqueue' then
  -- call_id, request_json, queue, priority, primary, others_json, sched_json, ring_s, wrap_s,
  -- sl_s, short_abandon_s, uniqueid, needs_waiter (1/0), callback_number ('' = inbound)
  local id = A[1]
  if redis.call('EXISTS', k('call', id)) == 1 then return {'duplicate', next_due()} end
  local prio = tonumber(A[4])
  local c = {id = id, request = A[2], queue = A[3], prio = A[4], primary = A[5], others = A[6],
    sched = A[7], ring = A[8], wrap = A[9], sl_ms = fmt(tonumber(A[10]) * 1000),
    short_ms = fmt(tonumber(A[11]) * 1000), uid = A[12], sd = DAY, sh = HOUR, qms = fmt(NOW),
    state = 'waiting', kind = 'inbound', attempts = 0, head = 0,
    score = fmt(-prio * BAND + NOW), needw = A[13] or '0', cbnum = A[14] or ''}
  if c.cbnum ~= '' then c.kind = 'callback' end
  local flat = {}
  for f, v in pairs(c) do
    if f ~= 'id' then flat[#flat + 1] = f; flat[#flat + 1] = v end
  end
  redis.call('HSET', k('call', id), unpack(flat))
  redis.call('SADD', k('calls'), id)
  redis.call('SET', k('uid', c.uid), id)
  redis.call('SADD', k('periods'), DAY)
  index_call(c)
  local pos = redis.call('ZRANK', k('queue', c.queue), id) + 1
  redis.call('HSET', k('call', id), 'entry_pos', pos)
  stat(c, 'entered', 1)
  if c.kind == 'callback' then
    stat(c, 'diverted', 1)
    stat(c, 'callbacks_requested', 1)
  end
  local ev = J('call_id', id, 'queue', c.queue, 'at', NOW_ISO, 'position', pos, 'uniqueid', c.uid,
    'request', raw(c.request))
  emit('queues', 'call_queued', ev)
  match_call(id)

elseif OP == 'agent_login' then
  -- username, extension, dial, skills_json, state
  local name = A[1]
  local skills = cjson.decode(A[4])
  unindex_agent(name)
  redis.call('DEL', k('askills', name))
  for s, l in pairs(skills) do redis.call('HSET', k('askills', name), s, l) end
  local old_dial = redis.call('HGET', k('agent', name), 'dial')
  if old_dial then redis.call('HDEL', k('phones'), string.lower(old_dial)) end
  redis.call('HSET', k('agent', name), 'ext', A[2], 'dial', A[3])
  redis.call('HSET', k('phones'), string.lower(A[3]), name)
  redis.call('SADD', k('agents'), name)
  local st = redis.call('HGET', k('agent', name), 'state')
  if st == 'offered' or st == 'on_call' or st == 'wrap_up' then
    index_agent(name)
  else
    set_agent(name, A[5], A[5] == 'paused' and 'login' or nil, nil)
    match_agent(name)
  end

elseif OP == 'agent_state' then
  -- username, state, reason
  local name, want, reason = A[1], A[2], A[3]
  local st = redis.call('HGET', k('agent', name), 'state')
  if st == false then return {'unknown_agent', next_due()} end
  if st == 'offered' or st == 'on_call' then return {'busy:' .. st, next_due()} end
  local cur_reason = redis.call('HGET', k('agent', name), 'reason')
  if st == want and (want ~= 'paused' or cur_reason == reason) then return {'ok', next_due()} end
  if st == 'wrap_up' then
    if want == 'available' then
      end_wrap_up(name)
      return {'ok', next_due(), unpack(offers)}
    end
    redis.call('ZREM', k('timers'), 'w:' .. name)
    local a = redis.call('HMGET', k('agent', name), 'since', 'wq', 'wsd', 'wsh', 'wp')
    stat({queue = a[2], sd = a[3], sh = a[4], primary = a[5]}, 'wrap_ms', NOW - tonumber(a[1]))
  end
  if want == 'paused' then
    set_agent(name, 'paused', reason, nil)
  else
    set_agent(name, want, nil, nil)
  end
  if want == 'available' then match_agent(name) end

elseif OP == 'device' then
  -- username, device state
  -- kept apart from the agent's hash: a phone's state may be known before the agent logs in
  local name = A[1]
  redis.call('HSET', k('devices'), name, A[2])
  if redis.call('EXISTS', k('agent', name)) == 1 and index_agent(name) then match_agent(name) end

elseif OP == 'answered' then
  -- offer_id
  local o = load_offer(A[1])
  if o == nil then return {'no_offer', next_due()} end
  local c = load_call(o.call)
  if c == nil or c.state ~= 'offered' or c.offer ~= A[1] then return {'stale', next_due()} end
  -- the answer may be reported late (Dial returns when the talk ends): A[2] = when it happened
  local at = tonumber(A[2] or '') or NOW
  if at > NOW or at < tonumber(c.qms) then at = NOW end
  local waited = at - tonumber(c.qms)
  redis.call('HSET', k('call', c.id), 'state', 'on_call', 'ams', fmt(at))
  set_agent(o.agent, 'on_call', nil, c.id)
  if c.kind == 'callback' then
    stat(c, 'callbacks_answered', 1)
  else
    stat(c, 'answered', 1)
    stat(c, 'wait_answered_ms', waited)
    if waited <= tonumber(c.sl_ms) then stat(c, 'answered_in_sl', 1) end
    redis.call('LPUSH', k('recent', c.queue), fmt(waited) .. ':' .. (c.entry_pos or '1'))
    redis.call('LTRIM', k('recent', c.queue), 0, 19)
  end
  local ev = J('call_id', c.id, 'agent', o.agent, 'at', NOW_ISO, 'wait_s', waited / 1000,
    'kind', c.kind, 'queue', c.queue)
  emit('queues', 'call_answered', ev)
  live('queue_calls', 'answered', ev)

elseif OP == 'not_answered' then
  -- offer_id, why (no_answer | busy | failed)
  local o = load_offer(A[1])
  if o == nil then return {'no_offer', next_due()} end
  local c = load_call(o.call)
  redis.call('DEL', k('offer', A[1]))
  if c == nil or c.state ~= 'offered' or c.offer ~= A[1] then return {'stale', next_due()} end
  stat(c, 'not_answered', 1)
  if A[2] == 'busy' then
    redis.call('HSET', k('devices'), o.agent, 'BUSY')
    set_agent(o.agent, 'available', nil, nil)
  else
    set_agent(o.agent, 'paused', 'no_answer', nil)
  end
  requeue_head(c)
  match_call(c.id)

elseif OP == 'callback' then
  -- call_id, number: the caller leaves a callback request and keeps their place
  local c = load_call(A[1])
  if c == nil or c.state ~= 'waiting' then return {'not_waiting', next_due()} end
  redis.call('HSET', k('call', c.id), 'kind', 'callback', 'cbnum', A[2])
  stat(c, 'diverted', 1)
  stat(c, 'callbacks_requested', 1)
  emit('queues', 'callback_requested', J('call_id', c.id, 'number', A[2], 'at', NOW_ISO,
    'queue', c.queue))
  live('queue_calls', 'callback', J('call_id', c.id))

elseif OP == 'call_ended' then
  -- call_id, cause
  local c = load_call(A[1])
  if c == nil then return {'unknown_call', next_due()} end
  local cause = A[2]
  if c.state == 'on_call' then
    stat(c, 'talk_ms', NOW - tonumber(c.ams))
    stat(c, 'handled', 1)
    local agent = c.agent
    end_call(c, c.kind == 'callback' and 'callback' or 'answered', cause)
    agent_ended_call(agent, c)
  elseif c.state == 'offered' then
    local agent = c.agent
    if c.kind == 'callback' then
      stat(c, 'callbacks_failed', 1)
      end_call(c, 'callback', cause)
    else
      end_call(c, 'abandoned', cause)
    end
    set_agent(agent, 'available', nil, nil)
    match_agent(agent)
  else
    local outcome = 'abandoned'
    if cause == 'voicemail' then outcome = 'voicemail'
    elseif cause == 'fallback' then outcome = 'transferred'
    elseif c.kind == 'callback' then outcome = 'callback'; stat(c, 'callbacks_failed', 1) end
    end_call(c, outcome, cause)
  end

elseif OP == 'tick' then
  local due = redis.call('ZRANGEBYSCORE', k('timers'), '-inf', fmt(NOW), 'LIMIT', 0, 500)
  local calls, agents = {}, {}
  for _, m in ipairs(due) do
    redis.call('ZREM', k('timers'), m)
    local kind, id = string.sub(m, 1, 1), string.sub(m, 3)
    if kind == 'c' then
      local c = load_call(id)
      if c and c.state == 'waiting' then
        unindex_call(c)
        index_call(c)
        calls[#calls + 1] = id
      end
    else
      end_wrap_up(id)
    end
  end
  for _, id in ipairs(calls) do match_call(id) end
end

return {result_status, next_due(), unpack(offers)}
