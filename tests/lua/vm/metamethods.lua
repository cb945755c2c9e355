-- Every metamethod the VM dispatches.
local log = {}
local function L(s) log[#log + 1] = s end
local mt = {}
local function new(v) return setmetatable({v = v}, mt) end
for _, op in ipairs({"add", "sub", "mul", "div", "mod", "pow", "idiv", "band", "bor", "bxor", "shl", "shr", "concat"}) do
  mt["__" .. op] = function(a, b)
    local av = type(a) == "table" and a.v or a
    local bv = type(b) == "table" and b.v or b
    L(op .. "(" .. tostring(av) .. "," .. tostring(bv) .. ")")
    return new(op)
  end
end
mt.__unm = function(a) L("unm") return new("unm") end
mt.__bnot = function(a) L("bnot") return new("bnot") end
mt.__len = function(a) L("len") return 42 end
mt.__eq = function(a, b) L("eq") return a.v == b.v end
mt.__lt = function(a, b) L("lt") return (type(a) == "table" and a.v or a) < (type(b) == "table" and b.v or b) end
mt.__le = function(a, b) L("le") return (type(a) == "table" and a.v or a) <= (type(b) == "table" and b.v or b) end
local a, b = new(1), new(2)
local _ = a + b, a - 1, 2 * a, a / b, a % b, a ^ b, a // b, a & b, a | 1, 1 ~ a, a << b, a >> 1, a .. "s", "s" .. a, 1 .. a
_ = -a, ~a
print(#a, a == b, a == new(1), a ~= new(1), a < b, a <= b, a > b, a >= b, a < 5, 5 < a, a <= 1, 1 >= a)
print(#log)
for i = 1, #log do io_free = (io_free or "") .. log[i] .. " " end
print(io_free)
-- __eq is not called for different types or primitively equal values
local eqc = 0
local e1 = setmetatable({}, {__eq = function() eqc = eqc + 1 return true end})
print(e1 == e1, e1 == 1, e1 == "x", e1 == setmetatable({}, {}), eqc)
-- __index / __newindex chains
local base = {x = 1}
local mid = setmetatable({}, {__index = base})
local top = setmetatable({}, {__index = mid})
print(top.x, top.y, rawget(top, "x"))
local fidx = setmetatable({}, {__index = function(t, k) return k .. "!" end})
print(fidx.hello, fidx[1])
local store = {}
local w = setmetatable({}, {__newindex = store})
w.a = 10
print(rawget(w, "a"), store.a)
local w2 = setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v * 2) end})
w2.q = 21
print(w2.q)
w2.q = 5 -- existing key: raw
print(w2.q)
local loop = setmetatable({}, {})
getmetatable(loop).__index = loop
print(pcall(function() return loop.x end))
-- __call, including chains
local callee = setmetatable({}, {__call = function(self, x, y) return "called", x, y end})
print(callee(1, 2))
local chain = setmetatable({}, {__call = callee})
print(select("#", chain(3)), rawequal(select(2, chain(3)), callee))
-- __close, __tostring, __name, __metatable
local named = setmetatable({}, {__name = "MyType"})
print(pcall(function() return named + 1 end))
print(pcall(function() return #named < 1 end))
local ts = setmetatable({}, {__tostring = function() return "I am ts" end})
print(ts, tostring(ts))
local prot = setmetatable({}, {__metatable = "locked"})
print(getmetatable(prot), pcall(setmetatable, prot, {}))
-- __index on strings goes to the string table
print(("x").nonexistent, getmetatable("").__index == string)
-- __len on strings is not consulted; # on tables without __len is the border
print(#"hello", #{1, 2, 3})
-- arithmetic metamethod on the right operand, with numbers on the left
local r = setmetatable({}, {__add = function(x, y) return type(x) .. "+" .. type(y) end})
print(1 + r, r + 1, 1.5 + r)
-- __concat with numbers and nested
local cc = setmetatable({}, {__concat = function(x, y)
  return (type(x) == "table" and "T" or x) .. (type(y) == "table" and "T" or y) end})
print("a" .. cc .. "b" .. 1, cc .. cc)
-- __lt without __le: no fallback in 5.4
local onlylt = setmetatable({}, {__lt = function() return true end})
print(pcall(function() return onlylt <= onlylt end))
print(onlylt < onlylt)
-- __unm / __len results adjusted to one value
local multi = setmetatable({}, {__unm = function() return 1, 2 end, __len = function() return 3, 4 end})
print(-multi, #multi)
-- __index function receiving the original table
local orig = setmetatable({}, {__index = function(t, k) return t end})
print(orig.x == orig)
print("ok")
