-- Coroutine ping-pong: resume/yield pairs passing a value back and forth, plus a
-- generator driven by a generic for. Prints a checksum.
local N = 7000000

local co = coroutine.create(function(x)
  while true do
    x = coroutine.yield(x + 1)
  end
end)
local resume = coroutine.resume
local sum = 0
for i = 1, N do
  local _, v = resume(co, i)
  sum = sum + v
end

local function gen(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i) end
  end)
end
local total = 0
for v in gen(math.floor(N / 2)) do total = total + v end

print(sum, total)
