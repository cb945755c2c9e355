-- Every statement form of Lua 5.4, with the results printed so lua5.4 can check them.
local results = {}
local function emit(...) results[#results + 1] = table.concat({...}, " ") end

-- local with attributes
local limit <const> = 10
local a, b, c = 1, 2
emit("locals", tostring(a), tostring(b), tostring(c), limit)

do
  local closed = {}
  do
    local h <close> = setmetatable({}, { __close = function() closed[#closed + 1] = "closed" end })
  end
  emit("close", closed[1])
end

-- function statements
local M = { sub = { deeper = {} } }
function M.sub.deeper.f(x) return x * 2 end
function M.sub:method(y) return self == M.sub and y end
local function fact(n) if n <= 1 then return 1 else return n * fact(n - 1) end end
emit("functions", M.sub.deeper.f(21), tostring(M.sub:method(7)), fact(10))

-- if / elseif / else
local function classify(n)
  if n < 0 then return "negative"
  elseif n == 0 then return "zero"
  elseif n < 10 then return "small"
  else return "large" end
end
emit("if", classify(-1), classify(0), classify(5), classify(50))

-- while, repeat (the condition sees the body's locals), break
local i, sum = 0, 0
while true do
  i = i + 1
  if i > 100 then break end
  sum = sum + i
end
local n = 0
repeat local done = n >= 3; n = n + 1 until done
emit("loops", sum, n)

-- numeric for with and without step, generic for
local acc = {}
for k = 1, 3 do acc[#acc + 1] = k end
for k = 10, 1, -4 do acc[#acc + 1] = k end
for k = 1.0, 2.0, 0.5 do acc[#acc + 1] = k end
for idx, v in ipairs({ "x", "y" }) do acc[#acc + 1] = idx .. v end
emit("for", table.concat(acc, ","))

-- goto and labels: a continue
local odd = {}
for k = 1, 6 do
  if k % 2 == 0 then goto continue end
  odd[#odd + 1] = k
  ::continue::
end
emit("goto", table.concat(odd, ","))

-- empty statements and semicolons
;;; local semi = 1; ; emit("semicolons", semi);

-- multiple assignment evaluates all expressions before assigning
local x, y = 1, 2
x, y = y, x
local t = {}
t[1], t[2], t.z = "p", "q", "r"
emit("assign", x, y, t[1], t[2], t.z)

-- a call statement with every argument form
local function cat(...) return select("#", ...) end
emit("calls", cat(), cat(1, 2), cat "s", cat [[long]], cat { 1, 2 })

for _, line in ipairs(results) do print(line) end
do return end
