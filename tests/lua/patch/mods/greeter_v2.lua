local M = {}
local greeted = 0
local function greet(name)
    return "Hi " .. name .. "!"
end
function M.handle(name)
    greeted = greeted + 1
    return greet(name) .. " #" .. greeted
end
function M.count()
    return greeted
end
return M
