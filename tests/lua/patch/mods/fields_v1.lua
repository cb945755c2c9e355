local M = {}
M.VERSION = "1.0"
M.limits = {max = 10}
M.settings = {timeout = 30}
function M.old_only()
    return "old"
end
function M.hello()
    return "hello v1"
end
return M
