local M = {}
local n = 0
local function step()
    n = n + 10
    return n
end
-- The new chunk starts a timer: a rolled-back patch must cancel it.
require("silly.time").after(20, function()
    _G.fired = (_G.fired or "") .. "a"
end)
function M.bump()
    return "a v2 " .. step()
end
function M.extra()
    return "a extra"
end
return M
