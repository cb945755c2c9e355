-- Guide: "Best Practices > 4. Rollback Mechanism": the running module (written for the test).
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
return M
