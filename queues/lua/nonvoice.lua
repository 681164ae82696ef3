-- Non-voice work (matters without a call) offered to agents, atomically, beside the router's
-- script and never inside it: it reads the router's agent states, skills, phones and free-agent
-- indexes and writes only its own keys, so the call path does not get one command slower.
--
-- ARGV: prefix, op, now_ms, op arguments...
-- Rule: an agent takes an item only while `available` (idle: no call offered, on, or in
-- wrap-up), with a phone that may be offered, and holds at most one item at a time. Calls keep
-- priority: holding an item leaves the agent available to the router, so the next call that
-- agent may take is offered at once; items are only ever offered to agents no call wants.
-- Order: the oldest item first (ties: its id); among agents the router's order for that skill
-- (best level, then longest idle).
--
-- Keys (prefix P):  P:nv:item:<id>   hash skill, json, qms, agent
--                   P:nv:wait:<skill> waiting items by qms
--                   P:nv:held         agent -> the item they hold
--                   P:nv:skills       skills that ever had an item (the sweep's list)

local P, OP, NOW = ARGV[1], ARGV[2], tonumber(ARGV[3])
local A = {}
for i = 4, #ARGV do A[#A + 1] = ARGV[i] end

local Q = P .. ':q:'
local N = P .. ':nv:'
local NOT_OFFERABLE = {INUSE = 1, BUSY = 1, UNAVAILABLE = 1, RINGING = 1, RINGINUSE = 1,
  ONHOLD = 1, INVALID = 1}

local function may_take(agent)
  if redis.call('HGET', Q .. 'agent:' .. agent, 'state') ~= 'available' then return false end
  if redis.call('HEXISTS', N .. 'held', agent) == 1 then return false end
  local dev = redis.call('HGET', Q .. 'devices', agent) or ''
  return not NOT_OFFERABLE[dev]
end

local function assign(id, agent)
  local item = redis.call('HMGET', N .. 'item:' .. id, 'skill', 'json')
  redis.call('ZREM', N .. 'wait:' .. item[1], id)
  redis.call('HSET', N .. 'item:' .. id, 'agent', agent, 'offered_ms', NOW)
  redis.call('HSET', N .. 'held', agent, id)
  redis.call('PUBLISH', P .. ':live:agent:' .. agent,
    '{"type":"matter_offer","data":{"agent":' .. cjson.encode(agent) .. ',"item":' .. item[2] .. '}}')
  return id
end

local function best_item_for(agent)
  local best, score = nil, nil
  for _, skill in ipairs(redis.call('HKEYS', Q .. 'askills:' .. agent)) do
    local head = redis.call('ZRANGE', N .. 'wait:' .. skill, 0, 0, 'WITHSCORES')
    if head[1] then
      local s = tonumber(head[2])
      if score == nil or s < score or (s == score and head[1] < best) then
        best, score = head[1], s
      end
    end
  end
  return best
end

local function best_agent_for(skill)
  for _, agent in ipairs(redis.call('ZRANGE', Q .. 'avail:' .. skill, 0, -1)) do
    if may_take(agent) then return agent end
  end
  return nil
end

local function offer_agent(agent)
  if not may_take(agent) then return nil end
  local id = best_item_for(agent)
  if id then return assign(id, agent) end
  return nil
end

local OPS = {}

OPS.add = function()  -- id, skill, json
  local id, skill = A[1], A[2]
  if redis.call('EXISTS', N .. 'item:' .. id) == 1 then return {'duplicate'} end
  redis.call('HSET', N .. 'item:' .. id, 'skill', skill, 'json', A[3], 'qms', NOW)
  redis.call('ZADD', N .. 'wait:' .. skill, NOW, id)
  redis.call('SADD', N .. 'skills', skill)
  -- an older item of the same skill goes first, to whoever is free
  local head = redis.call('ZRANGE', N .. 'wait:' .. skill, 0, 0)[1]
  local agent = best_agent_for(skill)
  if agent then
    assign(head, agent)
    return {'offered', agent, head}
  end
  return {'waiting'}
end

OPS.agent_free = function()  -- agent
  local id = offer_agent(A[1])
  if id then return {'offered', A[1], id} end
  return {'none'}
end

OPS.done = function()  -- agent, id
  local agent, id = A[1], A[2]
  if redis.call('HGET', N .. 'held', agent) ~= id then return {'not_held'} end
  redis.call('HDEL', N .. 'held', agent)
  redis.call('DEL', N .. 'item:' .. id)
  local next_id = offer_agent(agent)
  if next_id then return {'offered', agent, next_id} end
  return {'done'}
end

OPS.release = function()  -- agent: the item goes back to its place (signed out, or handed back)
  local agent = A[1]
  local id = redis.call('HGET', N .. 'held', agent)
  if not id then return {'none'} end
  redis.call('HDEL', N .. 'held', agent)
  local item = redis.call('HMGET', N .. 'item:' .. id, 'skill', 'qms')
  redis.call('HDEL', N .. 'item:' .. id, 'agent', 'offered_ms')
  redis.call('ZADD', N .. 'wait:' .. item[1], item[2], id)
  local other = best_agent_for(item[1])
  if other and other ~= agent then
    assign(redis.call('ZRANGE', N .. 'wait:' .. item[1], 0, 0)[1], other)
    return {'offered', other, id}
  end
  return {'released', agent, id}
end

OPS.sweep = function()  -- what an event should have offered
  local made = 0
  for _, skill in ipairs(redis.call('SMEMBERS', N .. 'skills')) do
    while true do
      local head = redis.call('ZRANGE', N .. 'wait:' .. skill, 0, 0)[1]
      if not head then break end
      local agent = best_agent_for(skill)
      if not agent then break end
      assign(head, agent)
      made = made + 1
    end
  end
  return {'swept', tostring(made)}
end

local op = OPS[OP]
if not op then return redis.error_reply('nonvoice: unknown operation ' .. tostring(OP)) end
return op()
