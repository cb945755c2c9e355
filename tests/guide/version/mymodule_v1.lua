-- Guide: "Best Practices > 3. Version Management": the running module at version 1.2.2
-- (the guide's snippet with the older version and business logic filled in).
local M = {
VERSION = "1.2.2",
BUILD_TIME = "2025-10-01T08:00:00Z"
}
-- Business logic...
local orders = 0
function M.order()
    orders = orders + 1
    return orders
end
return M
