local M = {}
-- Reordered: c and b swapped places, a renamed to a2, helper unchanged but lower down.
function M.c()
    return "c"
end
function M.b()
    return function()
        return "b's closure"
    end
end
local function helper(x)
    return x + 1
end
function M.a2()
    return helper(1)
end
M.list = {
    function() return "first" end,
    function() return "second, changed" end,
}
return M
