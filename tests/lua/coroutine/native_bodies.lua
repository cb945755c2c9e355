-- Yields across the natives Lua 5.4 lets them cross: a coroutine whose body is pcall or
-- xpcall (their callee yields inside the protection), and __pairs called by pairs.
local function foo()
  local x = coroutine.yield(1)
  error(x, 0)
end
local co = coroutine.create(pcall)
print(coroutine.resume(co, foo))
print(coroutine.resume(co, "boom"))
print(coroutine.status(co), coroutine.resume(co))

local co2 = coroutine.wrap(xpcall)
print(co2(function(a) return coroutine.yield(a) + 1 end, function(m) return "handled " .. m end, 10))
print(co2(5))
local co3 = coroutine.wrap(xpcall)
print(co3(function() coroutine.yield("y") error("late", 0) end, function(m) return "handled " .. m end))
print(co3())

-- pcall as a body around a native, and with no function at all.
print(coroutine.wrap(pcall)(select, "#", 1, 2, 3))
print(coroutine.resume(coroutine.create(pcall)))

-- __pairs may yield; the loop goes on with its results.
local t = setmetatable({}, {__pairs = function()
  local n = coroutine.yield("in __pairs")
  local i = 0
  return function() i = i + 1 if i <= n then return i, i * 10 end end, nil, nil
end})
local co4 = coroutine.wrap(function()
  local s = 0
  for k, v in pairs(t) do s = s + k + v end
  return "sum " .. s
end)
print(co4())
print(co4(3))

-- A yield inside a nested pcall inside the pcall body.
local co5 = coroutine.wrap(pcall)
print(co5(function() return pcall(function() return coroutine.yield("deep") * 2 end) end))
print(co5(21))
print("native_bodies done")
