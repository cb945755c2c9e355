-- Guide: "Debugging Tips": version 2: add counts calls, show goes through helper instead of
-- reading count, reset is new.
local M = {VERSION = "1.2.3"}
local count = 0
local calls = 0
local function helper(x)
    return x + count
end
function M.add(x)
    calls = calls + 1
    count = count + x
end
function M.get(x)
    return helper(x or 0)
end
function M.show()
    print("count", helper(0))
end
function M.reset()
    count = 0
end
return M
