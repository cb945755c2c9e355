-- Beyond the guide (spec/patch.md): natives reachable from a module (an upvalue, a module
-- field, a native iterator held as state) are leaves.
local M = {}
local floor = math.floor
local out = print
local iter = ipairs({})
local rounded = 0
function M.round(x)
    rounded = rounded + 1
    return floor(x + 0.5)
end
function M.say(s)
    out(s)
end
function M.iter()
    return iter
end
function M.rounded()
    return rounded
end
M.floor = math.floor
return M
