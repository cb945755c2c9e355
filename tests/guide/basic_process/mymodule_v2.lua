-- Guide: "Using silly.patch > Basic Process": the module the 5 steps reload, version 2.
-- `calls` and `history` are new upvalues: the 5 steps print them as absent.
local M = {}
local count = 0
local calls = 0
local history = {}
function M.add(n)
    calls = calls + 1
    history[#history + 1] = n
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
