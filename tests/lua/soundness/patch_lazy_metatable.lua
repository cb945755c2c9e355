-- A lazy tree's metatable is visible to scripts; bad fields in it are ignored, not trusted.
local P = require("silly.patch").new()
local t = P:collectupval(function() local x = 1 return x end)
local mt = getmetatable(t)
mt.__closure = 1000000
print(pcall(function() return t.x end))
local t2 = P:collectupval({f = function() end})
getmetatable(t2).__snap = io.stdout
print(pcall(function() return t2.f end))
