-- Guide: "Troubleshooting > Common Error 2: Parameter Order Wrong": the new version (add
-- also counts calls).
local M = {}
local count = 0
local calls = 0
function M.add(n)
    calls = calls + 1
    count = count + n
    return count
end
function M.get()
    return count
end
function M.calls()
    return calls
end
return M
