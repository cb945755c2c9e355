-- Line, call, return and count hooks on known functions.
local function f(n)
  local s = 0
  for i = 1, n do
    s = s + i
  end
  return s
end

local lines = {}
debug.sethook(function(ev, line) lines[#lines + 1] = line end, "l")
f(2)
debug.sethook()
for i = 1, #lines do io_write = nil; print("line", lines[i]) end

local events = {}
debug.sethook(function(ev, line)
  local info = debug.getinfo(2, "nS")
  events[#events + 1] = ev .. " " .. tostring(info.name) .. " " .. info.what
end, "cr")
f(1)
local function g() return f(1) end
g()
debug.sethook()
for i = 1, #events do print(events[i]) end

local count = 0
debug.sethook(function(ev) count = count + 1 end, "", 1)
f(10)
debug.sethook()
print("count events", count > 20, count < 200)

print(debug.gethook())
local h = function() end
debug.sethook(h, "crl", 5)
local hf, hm, hc = debug.gethook()
debug.sethook()
print(hf == h, hm, hc)

-- line hook in a coroutine only
local co = coroutine.create(function(a)
  local x = a + 1
  coroutine.yield(x)
  return x * 2
end)
local clines = {}
debug.sethook(co, function(ev, line) clines[#clines + 1] = ev .. ":" .. tostring(line) end, "lcr")
print(coroutine.resume(co, 1))
print(coroutine.resume(co))
for i = 1, #clines do print(clines[i]) end
print(debug.gethook(co) ~= nil, debug.gethook())

-- currentline inside a line hook
local seen = {}
local function k()
  local a = 1
  local b = 2
  return a + b
end
debug.sethook(function(ev, line)
  local info = debug.getinfo(2, "l")
  seen[#seen + 1] = (info.currentline == line) and "ok" or "bad"
end, "l")
k()
debug.sethook()
print(table_concat, #seen, seen[1], seen[#seen])
