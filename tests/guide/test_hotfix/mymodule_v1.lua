-- Guide: "Best Practices > 7. Test Hot Reload": the module test_hotfix.lua reloads, version 1
-- (written for the test: the guide only shows how it is used).
local M = {}
local data = {}
local n = 0
function M.add_data(key, value)
    if data[key] == nil then
        n = n + 1
    end
    data[key] = value
end
function M.get_data(key)
    return data[key]
end
function M.count()
    return n
end
return M
