-- silly.net.tcp under bad peers: timeouts, exact line limits whatever the chunking, an
-- accept function that fails, a connection dropped without close.
local tcp = require "silly.net.tcp"
local task = require "silly.task"
local time = require "silly.time"

-- A server whose accept function runs `script[i]` for the i-th connection.
local script = {}
local n = 0
local l = assert(tcp.listen{addr = "127.0.0.1:0", accept = function(conn)
  n = n + 1
  script[n](conn)
end})

local want = 0
local function peer(f)
  want = want + 1
  script[want] = f
  return assert(tcp.connect(l.addr))
end

-- settimeout: a read of a silent peer ends with "timeout" after about that long
local hold
local k = peer(function(conn) hold = conn end)
k:settimeout(50)
local t0 = time.monotonic()
local d, err = k:read("\n")
local dt = time.monotonic() - t0
print("read timeout", d, err, dt >= 50 and dt < 1000)
-- the connection is still usable after a timeout
hold:write("late\n")
print("after timeout", k:read("\n"))
k:settimeout(nil)
print("bad timeout", pcall(k.settimeout, k, -1))
k:close()
hold:close()

-- line limit exact, whatever the chunking: max bytes pass, max + 1 do not
local function line_of(len, step, delim)
  local got
  local w = peer(function(conn)
    got = table.pack(conn:read(delim, 100))
    conn:close()
  end)
  local s = string.rep("a", len) .. delim
  for i = 1, #s, step do
    w:write(s:sub(i, i + step - 1))
    if step < #s then time.sleep(1) end
  end
  while not got do time.sleep(1) end
  w:close()
  return got[1] and #got[1] or got[2]
end
print("limit at once", line_of(100, 1000, "\n"), line_of(101, 1000, "\n"))
print("limit trickled", line_of(100, 7, "\n"), line_of(101, 7, "\n"))
print("limit crlf", line_of(100, 1, "\r\n"), line_of(101, 3, "\r\n"))

-- an accept function that raises: its connection is closed (the peer sees the end)
local e = peer(function(conn) error("accept failed") end)
print("accept error", e:read(1))
e:close()

-- a connection dropped without close is closed by the collector (the accept loop's frame
-- holds the last connection it accepted until the next one: accept another)
local g = peer(function(conn) end)
local h = peer(function(conn) conn:close() end)
for _ = 1, 3 do collectgarbage() time.sleep(5) end
h:close()
g:settimeout(2000)
print("collected", g:read(1))
g:close()

-- drain and shutdown: the peer reads the end of the stream, our reads go on
local s = peer(function(conn)
  conn:write("bye")
  conn:shutdown()
  print("after shutdown", conn:read("\n"))
  conn:close()
end)
print("shutdown", s:read(3), s:read(1))
s:write("more\n")
time.sleep(20)
s:close()
l:close()
