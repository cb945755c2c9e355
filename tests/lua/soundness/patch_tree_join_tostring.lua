-- silly.patch joining edited trees whose key __tostring removes entries and collects.
local P = require("silly.patch").new()
local old = { f = { val = function() end, upvals = {} } }
local key = setmetatable({}, {__tostring = function() old.f = nil; collectgarbage(); return "k" end})
local new = { [key] = { val = function() end, upvals = {} } }
local absent, conflicts = P:join(new, old)
print(#absent, #conflicts)
