local M = {}
local function helper(x)
    return x + 1
end
function M.a()
    return helper(1)
end
function M.b()
    return function()
        return "b's closure"
    end
end
function M.c()
    return "c"
end
M.list = {
    function() return "first" end,
    function() return "second" end,
}
return M
