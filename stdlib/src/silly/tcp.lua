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
  return setmetatable({fd = fd, rbuf = "", remoteaddr = remote}, conn)
end

-- Appends newly arrived bytes to rbuf, waiting for them if needed: true or nil, err.
local function fill(self)
  if not self.fd then return nil, "closed" end
  while true do
    local d, err = c.recv(self.fd)
    if d then
      self.rbuf = self.rbuf .. d
      return true
    end
    if err ~= "again" then return nil, err end
    c.wait(self.fd)
    if not self.fd then return nil, "closed" end
  end
end

--- read(n): exactly n bytes. read(delim [, max]): the bytes up to `delim`, which is
--- consumed but not returned; with `max`, a line longer than max bytes gives nil,
--- "line too long". Both return nil, err on close or error (buffered data is kept).
function conn:read(n, max)
  if math.type(n) == "integer" then
    if n < 0 then error("bad argument #1 to 'read' (negative count)", 2) end
    while #self.rbuf < n do
      local ok, err = fill(self)
      if not ok then return nil, err end
    end
    local s = self.rbuf:sub(1, n)
    self.rbuf = self.rbuf:sub(n + 1)
    return s
  end
  local delim = n or "\n"
  if type(delim) ~= "string" or #delim == 0 then
    error("bad argument #1 to 'read' (count or delimiter expected)", 2)
  end
  local from = 1
  while true do
    local i, j = self.rbuf:find(delim, from, true)
    if i then
      local s = self.rbuf:sub(1, i - 1)
      self.rbuf = self.rbuf:sub(j + 1)
      return s
    end
    if max and #self.rbuf > max then return nil, "line too long" end
    from = math.max(1, #self.rbuf - #delim + 2)
    local ok, err = fill(self)
    if not ok then return nil, err end
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
