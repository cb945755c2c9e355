-- Closures: creating closures, upvalue reads and writes, shared cells.
local function counter()
  local c = 0
  return function() c = c + 1; return c end, function() return c end
end
local n = tonumber(arg and arg[1]) or 3000000
local total = 0
for i = 1, n do
  local inc, get = counter()
  inc(); inc()
  total = total + get()
end
local acc = 0
local add = function(x) acc = acc + x end
for i = 1, n * 3 do add(i) end
local fs = {}
for i = 1, 1000 do fs[i] = function() return i end end
local s = 0
for _ = 1, 300 do for i = 1, 1000 do s = s + fs[i]() end end
print(total, acc, s)
