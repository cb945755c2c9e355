-- A deterministic random workload of many coroutines: yields at random depths, across
-- pcall/xpcall, metamethods, iterators and __close, errors caught and uncaught, nested resumes and
-- closes, interleaved by a round-robin scheduler. The trace is compared with lua5.4.
local seed = 12345
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end
local trace = {}
local function log(...)
  local parts = {...}
  local s = ""
  for i = 1, select("#", ...) do s = s .. tostring(parts[i]) .. " " end
  trace[#trace + 1] = s
end
local mt = {__index = function(t, k) return coroutine.yield("idx") end,
            __add = function(a, b) return coroutine.yield("add") end}

local function work(id, depth)
  local acc = 0
  for step = 1, 6 do
    local op = rnd(9)
    if op == 0 then
      acc = acc + (coroutine.yield(id .. ":y" .. step) or 0)
    elseif op == 1 then
      local ok, v = pcall(function() return coroutine.yield(id .. ":py") end)
      acc = acc + (ok and (v or 0) or 100)
    elseif op == 2 then
      local ok, e = pcall(function()
        coroutine.yield(id .. ":pe")
        error("e" .. id, 0)
      end)
      log(id, "caught", ok, e)
    elseif op == 3 and depth < 3 then
      local sub = coroutine.create(work)
      local ok, v = coroutine.resume(sub, id * 10 + step, depth + 1)
      log(id, "sub", ok, v, coroutine.status(sub))
      if rnd(2) == 0 then log(id, "closesub", coroutine.close(sub)) end
    elseif op == 4 then
      local t = setmetatable({}, mt)
      local v = t.x
      acc = acc + (v or 0)
    elseif op == 5 then
      local g = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
      for v in g do acc = acc + v coroutine.yield(id .. ":gen" .. v) end
    elseif op == 6 then
      local ok, e = xpcall(function() local z = nil; return z.f end, function(m) return "h:" .. m end)
      log(id, "xp", ok, e)
    elseif op == 8 then
      do
        local c <close> = setmetatable({}, {__close = function() coroutine.yield(id .. ":cl") end})
        acc = acc + 1
      end
    elseif op == 7 and rnd(4) == 0 then
      error("fatal" .. id, 0)
    else
      acc = acc + step
    end
  end
  return acc
end

local tasks = {}
for i = 1, 30 do tasks[i] = coroutine.create(work) end
local alive = #tasks
local round = 0
while alive > 0 and round < 200 do
  round = round + 1
  alive = 0
  for i = 1, #tasks do
    local co = tasks[i]
    if coroutine.status(co) == "suspended" then
      local ok, v = coroutine.resume(co, i, 0)
      if not ok then log(i, "died", v, coroutine.close(co)) end
      if coroutine.status(co) == "suspended" then alive = alive + 1 else log(i, "end", v) end
      if round % 7 == 0 then collectgarbage() end
    end
  end
end
for i = 1, #trace do print(trace[i]) end
print("rounds", round, "lines", #trace)
