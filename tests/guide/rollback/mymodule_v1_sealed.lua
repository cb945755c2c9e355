-- Guide: "Best Practices > 4. Rollback Mechanism": the running module, sealed against new
-- fields, so a new version that adds a function fails part-way through the replacement loop
-- (written for the test).
local M = {}
local total = 0
local items = {}
function M.add(x)
    total = total + x
    items[#items + 1] = x
    return total
end
function M.total()
    return total
end
function M.size()
    return #items
end
return setmetatable(M, {__newindex = function(_, key)
    error("mymodule is sealed: cannot add " .. tostring(key), 2)
end})
