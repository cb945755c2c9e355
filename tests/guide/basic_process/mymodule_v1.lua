-- Guide: "Using silly.patch > Basic Process": the module the 5 steps reload, version 1
-- (written for the test; the guide only names it).
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
