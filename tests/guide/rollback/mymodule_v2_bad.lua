-- Guide: "Best Practices > 4. Rollback Mechanism": a new version with four new upvalues, more
-- than the snippet's limit of 3, so the reload fails after the join.
local M = {}
local total = 0
local items = {}
local limit = 100
local calls = 0
local scale = 1
local zone = "eu"
function M.add(x)
    calls = calls + 1
    if x > limit then
        return nil
    end
    total = total + x
    items[#items + 1] = x
    return total
end
function M.total()
    return total * scale
end
function M.size()
    return #items, zone
end
return M
