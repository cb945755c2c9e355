-- Guide: "Debugging Tips": the module the three helpers inspect, version 1 (written for the
-- test): a shared local helper, a function using a global (_ENV) and a VERSION field.
local M = {VERSION = "1.2.2"}
local count = 0
local function helper(x)
    return x + count
end
function M.add(x)
    count = count + x
end
function M.get(x)
    return helper(x or 0)
end
function M.show()
    print("count", count)
end
return M
