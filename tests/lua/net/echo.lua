-- Echo server and clients in one process: counts, lines, close, concurrency, slow reader.
local tcp = require "silly.net.tcp"
local task = require "silly.task"
local time = require "silly.time"

local l = assert(tcp.listen{addr = "127.0.0.1:0", accept = function(conn)
  while true do
    local line, err = conn:read("\n")
    if not line then break end
    if line == "big" then
      conn:write(string.rep("x", 8 * 1024 * 1024) .. "\n")
    else
      conn:write(line .. "\n")
    end
  end
  conn:close()
end})
print("addr", l.addr:match("^127%.0%.0%.1:%d+$") ~= nil)

local c = assert(tcp.connect(l.addr))
print("remote", c.remoteaddr == l.addr)
c:write("hello\nworld\n")
print(c:read("\n"), c:read(5), c:read(1) == "\n")
c:write("partial")
time.sleep(10)
c:write(" line\n")
print(c:read("\n"))
c:close()
print("read after close", c:read(1))
print("write after close", c:write("x"))
print("connect refused", tcp.connect("127.0.0.1:1"))

-- many pipelined lines in one write, a delimiter split across writes
local pc = assert(tcp.connect(l.addr))
local lines = {}
for i = 1, 5000 do lines[i] = "L" .. i end
pc:write(table.concat(lines, "\n") .. "\n")
local good = 0
for i = 1, 5000 do if pc:read("\n") == "L" .. i then good = good + 1 end end
pc:close()
print("pipelined", good)
local l4 = assert(tcp.listen{addr = "127.0.0.1:0", accept = function(conn)
  conn:write("ab\r") time.sleep(10) conn:write("\ncd\r\n") conn:close()
end})
local dc = assert(tcp.connect(l4.addr))
print("split delimiter", dc:read("\r\n"), dc:read("\r\n"), dc:read("\r\n"))
dc:close() l4:close()

-- writing to a peer that has closed fails with an error (no SIGPIPE), then reads see the end
local l5 = assert(tcp.listen{addr = "127.0.0.1:0", accept = function(conn) conn:close() end})
local wc = assert(tcp.connect(l5.addr))
time.sleep(20)
local wr, we
for _ = 1, 50 do
  wr, we = wc:write(string.rep("x", 100000))
  if not wr then break end
  time.sleep(1)
end
print("write to closed peer", wr, type(we), wc:read(1))
wc:close() l5:close()

-- a slow reader asks for 8 MiB and never reads; others keep being served
local slow = assert(tcp.connect(l.addr))
slow:write("big\n")

local N, done, ok = 300, 0, 0
for i = 1, N do
  task.fork(function()
    local k = assert(tcp.connect(l.addr))
    time.sleep(20) -- all of them connected at once: more than the default backlog of 128
    k:write("n" .. i .. "\n")
    if k:read("\n") == "n" .. i then ok = ok + 1 end
    k:close()
    done = done + 1
  end)
end
local t0 = time.monotonic()
while done < N and time.monotonic() - t0 < 5000 do time.sleep(5) end
-- a lost SYN (listen backlog overflow) would cost a 1 s retry
print("concurrent", done, ok, time.monotonic() - t0 < 900)
-- the slow one can still get everything
local big = slow:read("\n")
print("big", #big)
slow:close()
-- peer closes: the reader sees nil, err
local p = assert(tcp.connect(l.addr))
local server_side
local l2 = assert(tcp.listen{addr = "127.0.0.1:0", accept = function(conn)
  conn:write("bye") conn:close()
end})
local q = assert(tcp.connect(l2.addr))
print("eof", q:read(10))
print("line limit", (function()
  local l3 = assert(tcp.listen{addr = "127.0.0.1:0", accept = function(conn)
    conn:write(string.rep("a", 100)) time.sleep(20) conn:close()
  end})
  local r = assert(tcp.connect(l3.addr))
  local a, b = r:read("\n", 50)
  r:close() l3:close()
  return a, b
end)())
p:close() q:close()
l2:close()
do
  local sc <close> = assert(tcp.connect(l.addr))
  sc:write("scoped\n")
  print("scoped", sc:read("\n"))
  kept = sc
end
print("closed by scope", kept:read(1))
l:close()
print("closed", l:close())
