-- Yields from inside every kind of Lua metamethod the interpreter calls, and from
-- __call, iterators and nested pcall; each yield hands a value out and the resumed value
-- becomes the metamethod's result.
local log = {}
local function y(tag) return coroutine.yield(tag) end
local mt = {
  __index = function(t, k) return y("index " .. k) end,
  __newindex = function(t, k, v) rawset(t, k, y("newindex " .. k) .. v) end,
  __len = function() return y("len") end,
  __unm = function() return y("unm") end,
  __add = function() return y("add") end,
  __sub = function() return y("sub") end,
  __mul = function() return y("mul") end,
  __div = function() return y("div") end,
  __mod = function() return y("mod") end,
  __pow = function() return y("pow") end,
  __idiv = function() return y("idiv") end,
  __band = function() return y("band") end,
  __bor = function() return y("bor") end,
  __bxor = function() return y("bxor") end,
  __shl = function() return y("shl") end,
  __shr = function() return y("shr") end,
  __bnot = function() return y("bnot") end,
  __concat = function(a, b) return y("concat") end,
  __eq = function() return y("eq") end,
  __lt = function() return y("lt") end,
  __le = function() return y("le") end,
  __call = function(self, a, b) return y("call"), a, b end,
}
local co = coroutine.wrap(function()
  local t = setmetatable({}, mt)
  local u = setmetatable({}, mt)
  local r = {}
  r[#r + 1] = t.foo
  t.bar = "!"
  r[#r + 1] = rawget(t, "bar")
  r[#r + 1] = #t
  r[#r + 1] = -t
  r[#r + 1] = t + 1
  r[#r + 1] = 1 - t
  r[#r + 1] = t * t
  r[#r + 1] = t / 2
  r[#r + 1] = t % 2
  r[#r + 1] = t ^ 2
  r[#r + 1] = t // 2
  r[#r + 1] = t & 1
  r[#r + 1] = t | 1
  r[#r + 1] = t ~ 1
  r[#r + 1] = t << 1
  r[#r + 1] = t >> 1
  r[#r + 1] = ~t
  r[#r + 1] = "a" .. t .. "b" .. t .. "c"
  r[#r + 1] = tostring(t == u)
  r[#r + 1] = tostring(t < u)
  r[#r + 1] = tostring(t <= u)
  r[#r + 1] = tostring(t > 1)
  r[#r + 1] = tostring(2 >= t)
  if t < u then r[#r + 1] = "branch-lt" end
  if not (t <= u) then r[#r + 1] = "branch-not-le" end
  local c, a, b = t(1, 2)
  r[#r + 1] = c .. a .. b
  local s = ""
  for i = 1, #r do s = s .. tostring(r[i]) .. "," end
  return {done = s}
end)
local v = co()
local n = 0
while true do
  n = n + 1
  if type(v) == "table" then break end
  print(n, v)
  local reply
  if v == "eq" or v == "lt" then reply = true
  elseif v == "le" then reply = false
  elseif v == "len" then reply = 42
  else reply = "<" .. v .. ">" end
  v = co(reply)
end
print(v.done)
