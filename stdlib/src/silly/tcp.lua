-- The Lua half of silly.net.tcp (see tcp.rs): blocking-looking calls on non-blocking
-- primitives; a task waits only after a primitive answered "again".
local c = ...
local task = require "silly.task"

local M = {}

-- Output buffered past this makes write wait until the peer has taken some.
local HIGH_WATER = 4 * 1024 * 1024

local conn = {}
conn.__index = conn

local function newconn(fd, remote)
  -- rbuf[rpos..] is the data received and not yet read
  return setmetatable({fd = fd, rbuf = "", rpos = 1, remoteaddr = remote}, conn)
end

-- The next chunk of received bytes, waiting for it if needed; or nil, err.
local function recv(self)
  while true do
    if not self.fd then return nil, "closed" end
    local d, err = c.recv(self.fd)
    if d then return d end
    if err ~= "again" then return nil, err end
    c.wait(self.fd)
  end
end

-- Takes n buffered bytes (n <= what is buffered).
local function take(self, n, skip)
  local s = self.rbuf:sub(self.rpos, self.rpos + n - 1)
  self.rpos = self.rpos + n + (skip or 0)
  if self.rpos > #self.rbuf then self.rbuf, self.rpos = "", 1 end
  return s
end

--- read(n): exactly n bytes. read(delim [, max]): the bytes up to `delim`, which is
--- consumed but not returned; with `max`, more than max bytes without `delim` give nil,
--- "line too long". Both return nil, err on close or error (buffered data is kept).
function conn:read(n, max)
  if math.type(n) == "integer" then
    if n < 0 then error("bad argument #1 to 'read' (negative count)", 2) end
    local have = #self.rbuf - self.rpos + 1
    if have < n then
      -- gather the chunks and join them once (no quadratic copying for big reads)
      local parts = {self.rbuf:sub(self.rpos)}
      local err
      while have < n do
        local d
        d, err = recv(self)
        if not d then break end
        parts[#parts + 1] = d
        have = have + #d
      end
      self.rbuf, self.rpos = table.concat(parts), 1
      if have < n then return nil, err end
    end
    return take(self, n)
  end
  local delim = n or "\n"
  if type(delim) ~= "string" or #delim == 0 then
    error("bad argument #1 to 'read' (count or delimiter expected)", 2)
  end
  local from = self.rpos
  while true do
    local i, j = self.rbuf:find(delim, from, true)
    if i then return take(self, i - self.rpos, j - i + 1) end
    if max and #self.rbuf - self.rpos + 1 > max then return nil, "line too long" end
    -- a delimiter may straddle the old end and the new data
    from = math.max(self.rpos, #self.rbuf - #delim + 2)
    local d, err = recv(self)
    if not d then return nil, err end
    from = from - self.rpos + 1
    self.rbuf, self.rpos = self.rbuf:sub(self.rpos) .. d, 1
  end
end

--- write(data): buffered, non-blocking; true or nil, err.
function conn:write(data)
  if not self.fd then return nil, "closed" end
  local left, err = c.send(self.fd, tostring(data))
  if not left then return nil, err end
  while left > HIGH_WATER do
    c.wait(self.fd)
    if not self.fd then return nil, "closed" end
    left, err = c.flush(self.fd)
    if not left then return nil, err end
  end
  return true
end

--- close(): flushes what is buffered (waiting for the peer), then closes.
function conn:close()
  local fd = self.fd
  if not fd then return false end
  self.fd = nil
  local left = c.flush(fd)
  while left and left > 0 and task.running() do
    if c.wait(fd) & 4 ~= 0 then break end
    left = c.flush(fd)
  end
  c.close(fd)
  return true
end

-- `local c <close> = tcp.connect(...)` closes on scope exit.
conn.__close = conn.close

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

--- listen{addr = "ip:port", accept = function(conn) end}: a listener (fields addr, the
--- bound address, and close()), or nil, err. Each connection runs `accept` in its own task.
function M.listen(conf)
  if type(conf) ~= "table" then error("bad argument #1 to 'listen' (table expected)", 2) end
  local accept = conf.accept
  if type(accept) ~= "function" then
    error("bad argument #1 to 'listen' (field 'accept' must be a function)", 2)
  end
  local fd, bound = c.listen(conf.addr or "127.0.0.1:0")
  if not fd then return nil, bound end
  local l = setmetatable({fd = fd, addr = bound}, listener)
  task.fork(function()
    while l.fd do
      local cfd, peer = c.accept(l.fd)
      if cfd then
        task.fork(accept, newconn(cfd, peer))
      elseif peer == "again" then
        c.wait(l.fd)
      elseif peer == "closed" then
        break
      else
        -- other errors (e.g. too many open files): retried on the next readiness
        c.wait(l.fd)
      end
    end
  end)
  return l
end

return M
