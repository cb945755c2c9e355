local co = coroutine.create(function(a, b)
  print("start", a, b)
  local c = coroutine.yield(a + b)
  print("got", c)
  local d, e = coroutine.yield(c * 2)
  print("got2", d, e)
  return "done", 99
end)
print(coroutine.status(co))
print(coroutine.resume(co, 1, 2))
print(coroutine.status(co))
print(coroutine.resume(co, 10))
print(coroutine.resume(co, "x", "y"))
print(coroutine.status(co))
print(coroutine.resume(co))
-- generators
local function gen(n) return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end) end
for v in gen(3) do print("gen", v) end
-- yield across pcall
local co2 = coroutine.wrap(function()
  local ok, v = pcall(function() local x = coroutine.yield(1); error("boom" .. x) end)
  print("pcall", ok, v)
  local ok2, v2 = pcall(coroutine.yield, 2)
  print("pcall2", ok2, v2)
  return 3
end)
print(co2()) print(co2("A")) print(co2("B"))
-- metamethods
local mt = {__index = function(t, k) return coroutine.yield(k) end,
  __add = function(a, b) return coroutine.yield("add") end,
  __lt = function(a, b) return coroutine.yield("lt") end,
  __concat = function(a, b) return coroutine.yield("cat") end,
  __call = function(self, x) return coroutine.yield("call" .. x) end,
  __eq = function(a, b) return coroutine.yield("eq") end}
local co3 = coroutine.wrap(function()
  local t = setmetatable({}, mt)
  local u = setmetatable({}, mt)
  print("idx", t.foo)
  print("add", t + 1)
  print("lt", t < u)
  print("cat", "a" .. t .. "b")
  print("call", t(5))
  print("eq", t == u)
  return "end"
end)
local v = co3()
while v ~= "end" do print("yielded", v); v = co3(v == "lt" or v == "eq" or ("<" .. tostring(v) .. ">")) end
print(pcall(coroutine.yield, 1))
print(select(2, coroutine.resume(coroutine.create(function() tostring(setmetatable({}, {__tostring = function() coroutine.yield() end})) end))))
print(coroutine.isyieldable(), select(2, coroutine.running()))
local w = coroutine.wrap(function() error("oops") end)
print(pcall(w))
print(pcall(w))
local w2 = coroutine.wrap(function() error({}) end)
print(select("#", pcall(w2)))
local co4 = coroutine.create(function() local x <close> = setmetatable({}, {__close=function(_, e) print("closing", e) end}); coroutine.yield(1) end)
coroutine.resume(co4)
print(coroutine.close(co4), coroutine.status(co4))
local co5 = coroutine.create(function() local x <close> = setmetatable({}, {__close=function(_, e) print("closing5", e) end}); error("dead5") end)
print(coroutine.resume(co5))
print(coroutine.close(co5))
print(coroutine.close(co5))
print(coroutine.close(coroutine.create(print)))
print(pcall(coroutine.close, coroutine.running()))
local co6; co6 = coroutine.create(function() print(coroutine.resume(co6)); print(coroutine.status(co6)); return 1 end)
print(coroutine.resume(co6))
local outer = coroutine.create(function()
  local inner = coroutine.create(function() coroutine.yield("i1"); return "i2" end)
  print(coroutine.resume(inner)); coroutine.yield("o1"); print(coroutine.resume(inner)); print(pcall(coroutine.close, outer)) end)
print(coroutine.resume(outer)) print(coroutine.resume(outer))
local function rec(n) return rec(n + 1) + 1 end
print(coroutine.resume(coroutine.create(rec), 1))
