-- Beyond the guide: reloads in a row, version 3 (steps of 100 and 2).
local M = {}
local n = 0
local extra = 5
function M.inc()
    n = n + 100
    return n
end
function M.extra()
    extra = extra + 2
    return extra
end
return M
