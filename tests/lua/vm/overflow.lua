-- Unbounded recursion is a catchable "stack overflow", never a crash.
local function f() return 1 + f() end
local ok, msg = pcall(f)
print(ok, msg)
local function g(n) local a, b, c = n, n, n; return g(n + 1) + a end
print(pcall(g, 1))
-- through a metamethod
local mt = {}
mt.__index = function(t, k) return t[k .. "x"] end
local obj = setmetatable({}, mt)
local ok2, msg2 = pcall(function() return obj.a end)
print(ok2, msg2)
-- through __add written in Lua
local amt = {}
amt.__add = function(a, b) return a + b end
local ok3, msg3 = pcall(function() return setmetatable({}, amt) + 1 end)
print(ok3, msg3)
-- nested pcall: each level catches
local depth = 0
local function nest() depth = depth + 1 return pcall(nest) end
print(nest(), depth > 100)
-- still usable afterwards
print(pcall(f))
local function h(n) if n == 0 then return 0 end return 1 + h(n - 1) end
print(h(100000))
-- xpcall handler sees the overflow
print(xpcall(f, function(m) return "handled: " .. m end))
-- error objects that are not strings survive overflow handling
print(select("#", pcall(error)))
