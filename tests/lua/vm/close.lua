-- To-be-closed variables.
local log = {}
local function closer(name)
  return setmetatable({}, {__close = function(self, err) log[#log + 1] = name .. ":" .. tostring(err) end})
end
local function show() print((#log > 0) and (function() local s = "" for i = 1, #log do s = s .. log[i] .. " " end return s end)() or "-") log = {} end
do
  local a <close> = closer("a")
  local b <close> = closer("b")
  local c <close> = nil
  local d <close> = false
end
show()
local function ret()
  local x <close> = closer("x")
  local y <close> = closer("y")
  return "r1", "r2"
end
print(ret())
show()
print(pcall(function()
  local x <close> = closer("ex")
  error("boom")
end))
show()
print(pcall(function()
  local x <close> = setmetatable({}, {__close = function(_, e) error("close error", 0) end})
  error("original")
end))
print(pcall(function()
  local x <close> = closer("first")
  local y <close> = setmetatable({}, {__close = function(_, e) error("in y", 0) end})
  return 1
end))
show()
for i = 1, 2 do
  local z <close> = closer("loop" .. i)
  if i == 1 then goto continue end
  log[#log + 1] = "body" .. i
  ::continue::
end
show()
while true do
  local w <close> = closer("brk")
  break
end
show()
local function gen()
  local i = 0
  return function() i = i + 1 if i <= 2 then return i end end, nil, nil, closer("iter")
end
for i in gen() do log[#log + 1] = "it" .. i end
show()
for i in gen() do if i == 1 then break end end
show()
print(pcall(function() local bad <close> = {} end))
print(pcall(function() local bad <close> = 1 end))
local const <const> = 10
print(const)
print("ok")
