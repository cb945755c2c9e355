local M = {}
local count = 0
-- v2: a comment moves every line down.
local function tick()
    count = count + 1
    return "v2:" .. count
end
M.tick = tick
function M.make(tag)
    return function()
        return "made v2 " .. tag
    end
end
return M
