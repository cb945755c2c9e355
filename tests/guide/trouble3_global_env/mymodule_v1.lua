-- Guide: "Troubleshooting > Common Error 3: Global Variable Pollution": the running module,
-- which uses globals (written for the test).
GREETING = "Hello"
local M = {}
local hits = 0
function M.greet(name)
    hits = hits + 1
    return GREETING .. ", " .. name
end
function M.hits()
    return hits
end
return M
