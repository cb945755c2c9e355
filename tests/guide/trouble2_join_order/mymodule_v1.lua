-- Guide: "Troubleshooting > Common Error 2: Parameter Order Wrong": the running module
-- (written for the test).
local M = {}
local count = 0
function M.add(n)
    count = count + n
    return count
end
function M.get()
    return count
end
return M
