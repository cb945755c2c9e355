-- Guide: "Best Practices > 4. Rollback Mechanism": a new version the snippet accepts (one new
-- upvalue): add doubles its argument and counts calls.
local M = {}
local total = 0
local items = {}
local calls = 0
function M.add(x)
    calls = calls + 1
    total = total + 2 * x
    items[#items + 1] = x
    return total
end
function M.total()
    return total
end
function M.size()
    return #items
end
function M.calls()
    return calls
end
return M
