-- The Lua half of silly.net.tcp (see tcp.rs): blocking-looking calls on non-blocking
-- primitives; a task waits only after a primitive answered "again". Received bytes are
-- buffered on the Rust side (each byte is copied and searched once, however it arrives).
local c = ...
local task = require "silly.task"
local time = require "silly.time"

local M = {}

-- Output buffered past this makes write wait until the peer has taken some.
local HIGH_WATER = 4 * 1024 * 1024

-- How long the accept loop pauses after an error such as "too many open files" (the
-- pending connections stay queued; no readiness event would come for them).
local ACCEPT_RETRY = 100

local conn = {}
conn.__index = conn

local function newconn(fd, remote)
  return setmetatable({fd = fd, remoteaddr = remote}, conn)
end

-- The deadline of an operation starting now (nil: none).
local function deadline(self)
  local t = self.timeout
  return t and time.monotonic() + t
end

-- Calls prim(fd, ...) until it answers something else than "again", waiting for the
-- socket in between; nil, "timeout" once the connection's timeout has passed.
local function blocking(self, prim, a, b)
  local dl
  while true do
    local fd = self.fd
    if not fd then return nil, "closed" end
    local d, err = prim(fd, a, b)
    if d then return d end
    if err ~= "again" then return nil, err end
    if not dl then dl = deadline(self) end
    if c.wait(fd, dl) == 0 then return nil, "timeout" end
  end
end

--- read(n): exactly n bytes. read(delim [, max]): the bytes up to `delim`, which is
--- consumed but not returned; with `max`, more than max bytes before `delim` give nil,
--- "line too long". Both return nil, err on close or error (buffered data is kept), nil,
--- "timeout" when the connection's timeout (settimeout) passes first.
function conn:read(n, max)
  if math.type(n) == "integer" then
    if n < 0 then error("bad argument #1 to 'read' (negative count)", 2) end
    return blocking(self, c.read, n)
  end
  local delim = n or "\n"
  if type(delim) ~= "string" or #delim == 0 then
    error("bad argument #1 to 'read' (count or delimiter expected)", 2)
  end
  if max ~= nil and math.type(max) ~= "integer" then
    error("bad argument #2 to 'read' (integer expected)", 2)
  end
  return blocking(self, c.readline, delim, max)
end

--- write(data): buffered, non-blocking; true or nil, err ("timeout" when the peer takes
--- nothing for the connection's timeout while more than 4 MiB wait).
function conn:write(data)
  local fd = self.fd
  if not fd then return nil, "closed" end
  local left, err = c.send(fd, tostring(data))
  if not left then return nil, err end
  local dl
  while left > HIGH_WATER do
    if not dl then dl = deadline(self) end
    if c.wait(fd, dl) == 0 then return nil, "timeout" end
    if self.fd ~= fd then return nil, "closed" end
    left, err = c.flush(fd)
    if not left then return nil, err end
  end
  return true
end

--- settimeout(ms): the longest any one read, write or close may wait (nil: no limit).
function conn:settimeout(ms)
  if ms ~= nil and (type(ms) ~= "number" or ms ~= ms or ms < 0) then
    error("bad argument #1 to 'settimeout' (non-negative number or nil expected)", 2)
  end
  if ms == math.huge then ms = nil end
  self.timeout = ms and math.ceil(ms)
  return self
end

-- Waits until the buffered output is written (at most until `dl`); false if it was not.
local function drained(fd, dl)
  local left = c.flush(fd)
  while left and left > 0 and task.running() do
    local bits = c.wait(fd, dl)
    if bits == 0 or bits & 4 ~= 0 then return false end
    left = c.flush(fd)
  end
  return left == 0
end

--- close(): flushes what is buffered (waiting for the peer, in a task, at most the
--- connection's timeout), then closes.
function conn:close()
  local fd = self.fd
  if not fd then return false end
  self.fd = nil
  drained(fd, deadline(self))
  c.close(fd)
  return true
end

--- shutdown(): flushes, then ends the sending side (the peer reads the end of the
--- stream; reading goes on). true, or nil, err.
function conn:shutdown()
  local fd = self.fd
  if not fd then return nil, "closed" end
  drained(fd, deadline(self))
  return c.shutdown(fd)
end

-- Closes at once, dropping unsent output (no waiting: safe in finalizers and __close).
local function abort(self)
  local fd = self.fd
  if fd then
    self.fd = nil
    c.close(fd)
  end
end

-- `local c <close> = tcp.connect(...)` closes on scope exit.
conn.__close = conn.close
-- A connection the script dropped without closing is closed when collected.
conn.__gc = abort

--- connect(addr): a connection, or nil, err. Must run in a task.
function M.connect(addr)
  local fd, err = c.connect(addr)
  if not fd then return nil, err end
  while true do
    local peer, e = c.connected(fd)
    if peer then return newconn(fd, peer) end
    if e ~= "again" then
      c.close(fd)
      return nil, e
    end
    c.wait(fd)
  end
end

local listener = {}
listener.__index = listener

function listener:close()
  local fd = self.fd
  if not fd then return false end
  self.fd = nil
  return c.close(fd)
end

listener.__close = listener.close

-- Closes the connection of an accept function that raised an error (the task's pending
-- to-be-closed variables are closed when it dies, after its traceback was taken).
local guard_mt = {__close = function(g)
  if not g.done then abort(g.conn) end
end}


--- listen{addr = "ip:port", accept = function(conn) end}: a listener (fields addr, the
--- bound address, and close()), or nil, err. Each connection runs `accept` in its own
--- task; when `accept` raises an error, its connection is closed.
function M.listen(conf)
  if type(conf) ~= "table" then error("bad argument #1 to 'listen' (table expected)", 2) end
  local accept = conf.accept
  if type(accept) ~= "function" then
    error("bad argument #1 to 'listen' (field 'accept' must be a function)", 2)
  end
  local fd, bound = c.listen(conf.addr or "127.0.0.1:0")
  if not fd then return nil, bound end
  local l = setmetatable({fd = fd, addr = bound}, listener)
  local function serve(cn)
    local g <close> = setmetatable({conn = cn}, guard_mt)
    accept(cn)
    g.done = true
  end
  task.fork(function()
    while l.fd do
      local cfd, peer = c.accept(l.fd)
      if cfd then
        task.fork(serve, newconn(cfd, peer))
      elseif peer == "again" then
        c.wait(l.fd)
      elseif peer == "closed" then
        break
      else
        -- e.g. too many open files: retried shortly (and on the next readiness)
        c.wait(l.fd, time.monotonic() + ACCEPT_RETRY)
      end
    end
  end)
  return l
end

return M
