-- Beyond the guide: reloads in a row, version 2 (steps of 10, a new `extra`).
local M = {}
local n = 0
local extra = 5
function M.inc()
    n = n + 10
    return n
end
function M.extra()
    extra = extra + 1
    return extra
end
return M
