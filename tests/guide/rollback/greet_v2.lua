-- Guide: "Best Practices > 4. Rollback Mechanism" with a local helper: version 2 changes
-- only greet.
local M = {}
local count = 0
local function greet(name)
    return "Hi, " .. name .. "!"
end
function M.hello(name)
    count = count + 1
    return greet(name) .. " #" .. count
end
function M.count()
    return count
end
return M
