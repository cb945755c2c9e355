-- wrap inside wrap, generators, resume inside resume, statuses seen from inside,
-- upvalues shared across threads, iterators that yield, error positions.
local function gen(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i) end
    return nil
  end)
end
-- a generator of generators
local outer = coroutine.wrap(function()
  for i = 1, 3 do
    local inner = gen(i)
    local s = 0
    for v in inner do s = s + v end
    coroutine.yield(s)
  end
end)
print(outer(), outer(), outer())

-- filter/map pipeline of coroutines
local function filter(pred, g)
  return coroutine.wrap(function()
    for v in g do if pred(v) then coroutine.yield(v) end end
  end)
end
local function map(f, g)
  return coroutine.wrap(function()
    for v in g do coroutine.yield(f(v)) end
  end)
end
local acc = {}
for v in map(function(x) return x * x end, filter(function(x) return x % 2 == 0 end, gen(10))) do
  acc[#acc + 1] = v
end
print(#acc, acc[1], acc[5])

-- a Lua iterator function that yields inside the generic for
local co = coroutine.create(function()
  local function it(s, c)
    if c < 3 then coroutine.yield("iter" .. c) return c + 1 end
  end
  local n = 0
  for c in it, nil, 0 do n = n + c end
  return n
end)
for i = 1, 5 do print(coroutine.resume(co)) end

-- statuses and running from inside
local main = coroutine.running()
local a, b
a = coroutine.create(function()
  print("a sees", coroutine.status(a), select(2, coroutine.running()), coroutine.isyieldable())
  coroutine.resume(b)
  print("a again", coroutine.status(b))
  coroutine.yield()
end)
b = coroutine.create(function()
  print("b sees a", coroutine.status(a), "b", coroutine.status(b), "main", coroutine.status(main))
  print("b resumes a", coroutine.resume(a))
  print("b resumes main", coroutine.resume(main))
  print("b closes a", pcall(coroutine.close, a))
  print("b closes itself", pcall(coroutine.close, b))
  coroutine.yield()
end)
print(coroutine.resume(a))
print(coroutine.status(a), coroutine.status(b))
print(coroutine.isyieldable(), coroutine.running() == main)

-- open upvalues of a suspended coroutine used from another thread
local get, set
local uco = coroutine.create(function()
  local x = 1
  get = function() return x end
  set = function(v) x = v end
  coroutine.yield()
  print("in coroutine x =", x)
  x = x + 1
  coroutine.yield()
  return x
end)
coroutine.resume(uco)
print(get())
set(41)
coroutine.resume(uco)
print(get())
print(coroutine.resume(uco))
print(get())
set(7)
print(get())

-- errors: positions, non-string errors, wrap
local w = coroutine.wrap(function() local t = nil; return t.x end)
print(pcall(w))
local w2 = coroutine.wrap(function() error({code = 1}) end)
local ok, e = pcall(w2)
print(ok, type(e), e.code)
local w3 = coroutine.wrap(function() error("plain", 0) end)
print(pcall(w3))
local w4 = coroutine.wrap(function() error() end)
print(pcall(w4))
local w5 = coroutine.wrap(function() return 1 end)
w5()
print(pcall(w5))
print(pcall(coroutine.create, 1))
print(pcall(coroutine.wrap))
print(pcall(coroutine.resume, {}))
print(pcall(coroutine.status, nil))
print(pcall(coroutine.yield))

-- yield across pcall/xpcall with handlers and errors after resume
local pc = coroutine.create(function()
  local r = {xpcall(function()
    local v = coroutine.yield("in xpcall")
    error("after " .. v)
  end, function(m) return "handled: " .. m end)}
  coroutine.yield(r[1], r[2])
  local ok2, v2 = pcall(pcall, coroutine.yield, "nested")
  return ok2, v2
end)
print(coroutine.resume(pc))
print(coroutine.resume(pc, "resume"))
print(coroutine.resume(pc))
print(coroutine.resume(pc, "last"))

-- traceback inside a coroutine shows only its frames
local tc = coroutine.wrap(function() local function deep() print(debug.traceback("tb")) end deep() end)
tc()

-- many values through resume/yield
local mv = coroutine.wrap(function(...)
  local t = {...}
  local t2 = {coroutine.yield(#t, ...)}
  return #t2
end)
print(select("#", mv(1, 2, 3, nil, 5)))
print(mv(nil, nil, nil))

-- resuming from inside a native callback chain (tostring -> __tostring -> resume)
local inner = coroutine.wrap(function() coroutine.yield("y1") coroutine.yield("y2") end)
local obj = setmetatable({}, {__tostring = function() return inner() .. "+" .. inner() end})
print(tostring(obj))
-- a coroutine whose body yields from inside a Lua metamethod it triggers from a native
local bad = coroutine.create(function() return tostring(setmetatable({}, {__tostring = function() coroutine.yield() end})) end)
print(coroutine.resume(bad))
print(coroutine.status(bad))
-- stack overflow inside a coroutine is an error resume returns; the thread is dead
local function rec(n) return 1 + rec(n + 1) end
local so = coroutine.create(function() return rec(1) end)
local ok, msg = coroutine.resume(so)
print(ok, msg, coroutine.status(so))
-- and after catching it inside, the coroutine goes on
local so2 = coroutine.create(function()
  local ok2, m2 = pcall(rec, 1)
  coroutine.yield(ok2, m2)
  return "alive"
end)
print(coroutine.resume(so2))
print(coroutine.resume(so2))
