local M = {}
local sales = 0
local label = 7 -- a number now
local discount = 0.1
local function fmt(n)
    return label .. ":" .. n
end
function M.sell(n)
    sales = sales + n * (1 - discount)
    return fmt(sales)
end
function M.report()
    return fmt(sales)
end
function M.refund(n)
    sales = sales - n
end
return M
