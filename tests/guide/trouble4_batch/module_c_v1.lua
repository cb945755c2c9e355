-- Guide: "Troubleshooting > Common Error 4": module_c, version 1; owner() requires module_a
-- at call time, closing the cycle.
local M = {}
local items = {}
function M.push(x)
    items[#items + 1] = x
end
function M.size()
    return #items
end
function M.owner()
    return require "module_a"
end
return M
