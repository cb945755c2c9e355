-- Upvalue sharing, closing, fresh cells per loop iteration.
local function counter()
  local n = 0
  return function() n = n + 1 return n end, function() return n end
end
local inc, get = counter()
inc() inc()
print(get())
local inc2, get2 = counter()
inc2()
print(get(), get2())
-- A loop creates a fresh local per iteration.
local fs = {}
for i = 1, 3 do fs[i] = function() return i end end
print(fs[1](), fs[2](), fs[3]())
local ws = {}
local j = 0
while j < 3 do
  j = j + 1
  local k = j
  ws[j] = function() k = k + 10 return k end
end
print(ws[1](), ws[1](), ws[2](), ws[3]())
-- Shared cell between sibling closures, closed after the function returns.
local function pair()
  local v = "init"
  local function set(x) v = x end
  local function read() return v end
  return set, read
end
local set, read = pair()
set("changed")
print(read())
-- Nested closures reach outer upvalues through the middle function.
local function outer()
  local x = 1
  return function()
    return function() x = x + 1 return x end
  end
end
local mk = outer()
local f1, f2 = mk(), mk()
print(f1(), f2(), f1())
-- Generic for: a fresh variable per iteration too.
local gs = {}
for k, v in ipairs({"a", "b"}) do gs[k] = function() return v end end
print(gs[1](), gs[2]())
-- Upvalue captured while the loop runs, modified by the loop.
local acc = {}
do
  local s = 0
  local function add(n) s = s + n end
  for i = 1, 4 do add(i) end
  acc[1] = function() return s end
end
print(acc[1]())
-- Recursion through an upvalue (local function).
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
print(fact(20))
print("ok")
