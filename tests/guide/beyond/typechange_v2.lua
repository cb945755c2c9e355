-- Beyond the guide (spec/patch.md): version 2 turns `limit` into a table.
local M = {}
local limit = {max = 20}
local count = 0
function M.check(x)
    count = count + 1
    return x <= limit.max
end
function M.get_limit()
    return limit
end
function M.count()
    return count
end
return M
