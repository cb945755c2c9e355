-- Guide: "Troubleshooting > Common Error 4": module_b, version 1.
local c = require "module_c"
local M = {}
local n = 0
function M.add(k)
    n = n + k
    c.push(k)
end
function M.total()
    return n + c.size()
end
return M
