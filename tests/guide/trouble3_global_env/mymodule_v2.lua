-- Guide: "Troubleshooting > Common Error 3: Global Variable Pollution": the new version sets
-- globals: GREETING (already a global: the merge keeps the running value), TRACE (new) and
-- the global function decorate (functions are always merged).
GREETING = "Hi"
TRACE = true
function decorate(s)
    return "<" .. s .. ">"
end
local M = {}
local hits = 0
function M.greet(name)
    hits = hits + 1
    return decorate(GREETING .. ", " .. name)
end
function M.hits()
    return hits
end
return M
