-- math library: values, integer/float subtypes and errors as lua5.4.
local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do
    local v = t[i]
    t[i] = tostring(v) .. (math.type(v) and ("/" .. math.type(v)) or "")
  end
  print(table.concat(t, " "))
end
local function perr(f, ...) print(pcall(f, ...)) end

show(math.pi, math.huge, -math.huge, math.maxinteger, math.mininteger)
show(math.abs(-3), math.abs(-3.5), math.abs(math.mininteger), math.abs("-3"), math.abs(-0.0))
show(math.floor(3.7), math.floor(-3.7), math.floor(2^70), math.floor(-0.0), math.floor(5), math.floor("3.2"))
show(math.ceil(3.2), math.ceil(-3.2), math.ceil(2^63), math.ceil(-2^63), math.ceil(1e308))
show(math.fmod(7, 3), math.fmod(-7, 3), math.fmod(7, -3), math.fmod(-7, 3.0), math.fmod(5.5, 2))
show(math.fmod(math.mininteger, -1), math.fmod(3, math.mininteger), math.fmod(5, 0.0) ~= math.fmod(5, 0.0))
perr(math.fmod, 5, 0)
perr(math.fmod, 5)
show(math.modf(3.7), math.modf(-3.7), math.modf(5), math.modf(2^70), math.modf(math.huge), math.modf(-math.huge))
show(math.modf(-0.5))
show(math.sqrt(16), math.sqrt(2), math.exp(0), math.log(1))
show(math.log(8, 2), math.log(1024, 2), math.log(100, 10), math.log(1000, 10), math.log(27, 3), math.log(2, 0))
show(math.sin(0), math.cos(0), math.tan(0), math.asin(1), math.acos(1), math.atan(1), math.atan(1, 2), math.atan(0, -1))
show(math.deg(math.pi), math.rad(180))
show(math.tointeger(3.0), math.tointeger(3.5), math.tointeger("8"), math.tointeger("x"), math.tointeger({}), math.tointeger(2^63))
perr(math.tointeger)
show(math.type(1), math.type(1.0), math.type("1"), math.type(nil))
perr(math.type)
show(math.ult(1, -1), math.ult(-1, 1), math.ult(2, 3))
perr(math.ult, 1.5, 2)
show(math.max(1, 2.5), math.max(3, 2.5), math.max(1, 1.0), math.min(1.0, 1), math.min(3, 1.0, 1), math.max(-0.0, 0))
show(math.max("10"), math.min(7))
perr(math.max)
perr(math.min, 1, "x")
perr(math.max, "10", 9)
perr(math.floor, "a")
perr(math.abs)
perr(math.sin, {})

-- random: the xoshiro256** sequence for a given seed is lua5.4's
show(math.randomseed(42))
show(math.random(1, 100), math.random(), math.random(0), math.random(10), math.random(-5, 5))
math.randomseed(7, 3)
local acc = {}
for i = 1, 20 do acc[#acc + 1] = math.random(1000) end
print(table.concat(acc, " "))
show(math.random(math.mininteger, math.maxinteger), math.random(3, 3))
for i = 1, 1000 do
  local r = math.random(5, 9)
  assert(r >= 5 and r <= 9 and math.type(r) == "integer")
  local f = math.random()
  assert(f >= 0 and f < 1)
end
perr(math.random, 2, 1)
perr(math.random, 0.5)
perr(math.random, 1, 2, 3)
perr(math.randomseed, 1.5)
print("math done")
