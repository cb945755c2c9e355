-- Guide: "Troubleshooting > Common Error 4: Circular Reference Issues": module_a, version 1
-- (written for the test). a -> b -> c at load time, and c -> a at call time (the cycle).
local b = require "module_b"
local M = {}
local hits = 0
function M.hit()
    hits = hits + 1
    b.add(1)
    return hits
end
function M.total()
    return hits + b.total()
end
return M
