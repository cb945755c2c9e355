-- Beyond the guide (spec/patch.md): `limit` is a number here and a table in version 2.
local M = {}
local limit = 10
local count = 0
function M.check(x)
    count = count + 1
    return x <= limit
end
function M.get_limit()
    return limit
end
function M.count()
    return count
end
return M
