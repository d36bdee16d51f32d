"""Redis names and Lua scripts of the room broker (each script runs atomically in Redis).

Keys of room CODE (the ``{CODE}`` hash tag keeps a room's keys on one Redis Cluster slot):

- ``bpviz:room:{CODE}:owner``     string, the owner id; TTL refreshed by the owner's heartbeat
- ``bpviz:room:{CODE}:followers`` sorted set, member ``INSTANCE:FOLLOWER`` scored by its expiry
  (ms, Redis clock), refreshed by the follower's process heartbeat
- ``bpviz:room:{CODE}:last``      hash kind → envelope: the retained messages
- channel ``bpviz:room:CODE``     every message of the room, as an envelope

An envelope is ``KIND SP FLAG SP PAYLOAD`` with FLAG ``t`` (UTF-8 text) or ``b`` (bytes).
Times come from Redis's own ``TIME``, so the processes' clocks never matter.
"""

from __future__ import annotations

from .subscription import RoomMessage

CHANNEL_PREFIX = b"bpviz:room:"
NODE_PREFIX = "bpviz:node:"


def channel(code: str) -> str:
    return f"bpviz:room:{code}"


def keys(code: str) -> list[str]:
    """``[owner, followers, last]`` of room ``code``."""
    base = f"bpviz:room:{{{code}}}:"
    return [base + "owner", base + "followers", base + "last"]


def encode(msg: RoomMessage) -> bytes:
    if isinstance(msg.payload, bytes):
        return msg.kind.encode("ascii") + b" b " + msg.payload
    return msg.kind.encode("ascii") + b" t " + msg.payload.encode("utf-8")


def decode(data: bytes) -> RoomMessage | None:
    """The message in an envelope, or None if it is not one (never raises)."""
    try:
        kind, flag, body = data.split(b" ", 2)
        if flag == b"b":
            return RoomMessage(kind.decode("ascii"), body)
        if flag == b"t":
            return RoomMessage(kind.decode("ascii"), body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        pass
    return None


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS owner, followers, last · ARGV owner_id, ttl_ms → 1 opened, 0 taken
OPEN = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('DEL', KEYS[2], KEYS[3])
  return 1
end
return 0
"""

# KEYS owner, followers, last · ARGV owner_id, ttl_ms, channel
# → {status, followers}: status 0 refreshed, 1 re-created (Redis had lost it), -1 taken over
HEARTBEAT = (
    """
local status = 0
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  status = 1
elseif v ~= ARGV[1] then
  return {-1, 0}
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
"""
    + _NOW
    + """
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
local n = redis.call('ZCARD', KEYS[2])
if removed > 0 or status == 1 then
  redis.call('PUBLISH', ARGV[3], 'followers t ' .. n)
end
return {status, n}
"""
)

# KEYS owner, followers · ARGV ttl_ms, channel, member... → count, or -1 if no such room
# (join, and the heartbeat of this process's followers; publishes the count if it changed)
TOUCH = (
    """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
"""
    + _NOW
    + """
local before = redis.call('ZCARD', KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local added = 0
for i = 3, #ARGV do
  added = added + redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), ARGV[i])
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
local n = redis.call('ZCARD', KEYS[2])
if added > 0 or n ~= before then
  redis.call('PUBLISH', ARGV[2], 'followers t ' .. n)
end
return n
"""
)

# KEYS owner, followers · ARGV channel, member → count
LEAVE = (
    _NOW
    + """
local removed = redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local n = redis.call('ZCARD', KEYS[2])
if removed > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[1], 'followers t ' .. n)
end
return n
"""
)

# KEYS owner, followers → count of live followers (0 if no such room)
COUNT = (
    """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
"""
    + _NOW
    + """
return redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')
"""
)

# KEYS last · ARGV channel, envelope, kind to retain ('' for none), ttl_ms → receivers
PUBLISH = """
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
"""

# KEYS owner, followers, last · ARGV owner_id, channel, envelope → 1 closed, 0 not ours
CLOSE = """
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""
