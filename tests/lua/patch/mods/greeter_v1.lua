local M = {}
local greeted = 0
local function greet(name)
    return "Hello, " .. name
end
function M.handle(name)
    greeted = greeted + 1
    return greet(name) .. " #" .. greeted
end
function M.legacy()
    return "legacy"
end
return M
