local M = {}
local count = 0
local function tick()
    count = count + 1
    return "v1:" .. count
end
M.tick = tick
function M.make(tag)
    return function()
        return "made v1 " .. tag
    end
end
return M
