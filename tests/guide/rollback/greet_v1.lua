-- Guide: "Best Practices > 4. Rollback Mechanism" with a local helper (written for the
-- test): hello() calls the local function greet through an upvalue.
local M = {}
local count = 0
local function greet(name)
    return "Hello, " .. name
end
function M.hello(name)
    count = count + 1
    return greet(name) .. " #" .. count
end
function M.count()
    return count
end
return M
