local M = {}
local n = 0
local function step()
    n = n + 1
    return n
end
function M.bump()
    return "b v1 " .. step()
end
return M
