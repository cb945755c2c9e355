-- Guide: "Best Practices > 7. Test Hot Reload": version 2 adds `new_function`, which adds a
-- third entry; it is new, so its upvalues are joined by variable (spec/patch.md).
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
function M.new_function()
    if data.key3 == nil then
        n = n + 1
    end
    data.key3 = "value3"
end
return M
