-- Open upvalues stay correct when the stack is reallocated under them.
local function deep(n, f) if n == 0 then return f() end return deep(n - 1, f) + 0 end
local function outer()
  local x = 1
  local function bump() x = x + 1 return x end
  -- grow the stack a lot while x is still open (a local of this running frame)
  local r = deep(50000, bump)
  x = x + 100
  return r, x, bump()
end
print(outer())
-- many open upvalues at different depths
local function nest(n)
  local v = n
  local get = function() return v end
  if n == 0 then return get end
  local inner = nest(n - 1)
  v = v * 2
  return function() return get() + inner() end
end
print(nest(100)())
-- varargs across growth
local function va(...) local a = {...} deep(20000, function() return 0 end) return select("#", ...), a[1], a[#a] end
print(va(1, 2, 3, 4, 5))
local function count(...) return select("#", ...) end
print("ok")
