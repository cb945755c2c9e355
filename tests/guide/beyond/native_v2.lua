-- Beyond the guide (spec/patch.md): version 2 replaces the native `floor` upvalue by a Lua
-- function and rounds half down.
local M = {}
local floor = function(x)
    return x // 1
end
local out = print
local iter = ipairs({})
local rounded = 0
function M.round(x)
    rounded = rounded + 1
    return math.tointeger(floor(x + 0.4))
end
function M.say(s)
    out("v2: " .. s)
end
function M.iter()
    return iter
end
function M.rounded()
    return rounded
end
M.floor = math.floor
return M
