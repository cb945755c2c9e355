-- Guide: "Best Practices > 3. Version Management": the module snippet as written, with its
-- "Business logic..." filled in (orders now come in pairs).
local M = {
VERSION = "1.2.3",
BUILD_TIME = "2025-10-14T12:00:00Z"
}
-- Business logic...
local orders = 0
function M.order()
    orders = orders + 2
    return orders
end
return M
