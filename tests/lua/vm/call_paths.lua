-- Lua-to-Lua call and return paths: result counts, iterators written in Lua, tail calls,
-- returns through protected calls and coroutines, hooks seeing every call and return.

-- Results adjusted to what the caller wants (RETURN0 / RETURN1 / RETURN).
local function none() end
local function one() return 1 end
local function two() return 1, 2 end
local function three() return 1, 2, 3 end
local a, b, c = none(); print(a, b, c)
a, b, c = one(); print(a, b, c)
a, b, c = two(); print(a, b, c)
a, b = three(); print(a, b)
print(select('#', none()), select('#', one()), select('#', three()))
print((three()))
local t = {three(), three()}; print(#t, t[1], t[2], t[4])

-- Iterators written in Lua, returning fewer or more values than the loop's variables.
local function it1(_, n) if n < 3 then return n + 1 end end
for x, y, z in it1, nil, 0 do print("it1", x, y, z) end
local function it4(_, n) if n < 2 then return n + 1, "b", "c", "d" end end
for x, y in it4, nil, 0 do print("it4", x, y) end
local function it0() end
for x in it0 do print("never", x) end
local function upto(n)
  local i = 0
  return function() i = i + 1; if i <= n then return i, i * i end end
end
local s = 0
for i, sq in upto(100) do s = s + i + sq end
print("upto", s)

-- Tail calls keep the way back to the caller (plain, protected, metamethod).
local function tc(n, ...) if n == 0 then return "done", ... end return tc(n - 1, ...) end
print(tc(5, "x", "y"))
print(pcall(tc, 3, "p"))
local mt = {__index = function(_, k) return tc(2, k) end}
print(setmetatable({}, mt).key)
local function caller() return (tc(4)) end
print(caller())

-- Errors raised deep in Lua calls unwind to the right protected call.
local function boom(n) if n == 0 then error("boom", 0) end return 1 + boom(n - 1) end
print(pcall(boom, 50))
print(pcall(function() for _ in function() error("in iterator", 0) end do end end))

-- Calls and returns inside a coroutine, yielding from a Lua iterator.
local co = coroutine.wrap(function(x)
  local sum = x
  for v in function(_, n)
    n = (n or 0) + 1
    if n <= 3 then coroutine.yield(n); return n end
  end do
    sum = sum + v
  end
  return "sum", sum
end)
print(co(10), co(), co(), co())

-- Closures made by a returning function keep their own values.
local fs = {}
for i = 1, 3 do
  local function mk() local v = i * 10; return function() return v end end
  fs[i] = mk()
end
print(fs[1](), fs[2](), fs[3]())

-- Deep recursion and returns of many values.
local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
print(depth(5000))
local function many(n) if n == 0 then return end return n, many(n - 1) end
print(select('#', many(200)), (select(200, many(200))))

-- Call and return hooks see every Lua call and its return.
local calls, rets = 0, 0
local function leaf(x) return x end
local function mid(x) return leaf(x) + leaf(x) end
debug.sethook(function(ev)
  if ev == "call" or ev == "tail call" then calls = calls + 1 else rets = rets + 1 end
end, "cr")
for i = 1, 10 do mid(i) end
debug.sethook()
print("hooks", calls, rets)

-- `type(v)` with one value and one result is answered without a native frame; every other
-- shape (no value, more values, several results, hooks watching) goes through the call.
local samples = {nil, true, 0, 1.5, "s", {}, print, function() end,
  coroutine.create(function() end)}
for i = 1, 9 do local v = samples[i]; print("type", i, type(v), type(v) == "function") end
print(pcall(type))
print(type(1, 2), select('#', type(1)))
local ty, extra = type({}); print(ty, extra)
local T = type; print(T(T), (T(nil)))
print(type(3) .. type(3), #type("x"))
local seen = 0
debug.sethook(function(ev) if debug.getinfo(2, "f").func == type then seen = seen + 1 end end, "c")
local _ = type(1) == "number"
debug.sethook()
print("hooked calls to type", seen)
