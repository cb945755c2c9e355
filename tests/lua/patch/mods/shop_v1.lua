local M = {}
local sales = 0
local label = "shop"
local legacy = true
local function fmt(n)
    return label .. ":" .. n
end
function M.sell(n)
    sales = sales + n
    return fmt(sales)
end
function M.report()
    return fmt(sales)
end
function M.unused()
    return legacy
end
return M
