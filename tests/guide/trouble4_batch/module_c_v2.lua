-- Guide: "Troubleshooting > Common Error 4": module_c, version 2.
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
function M.describe()
    return "c:" .. table.concat(items, ",") .. " owner total " .. M.owner().total()
end
return M
