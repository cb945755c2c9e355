-- Guide: "Troubleshooting > Common Error 4": module_a, version 2 (hit counts double in b).
local b = require "module_b"
local M = {}
local hits = 0
function M.hit()
    hits = hits + 1
    b.add(2)
    return hits
end
function M.total()
    return hits + b.total()
end
function M.describe()
    return "a:" .. hits
end
return M
