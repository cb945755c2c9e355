-- Beyond the guide (spec/patch.md "call through ... a module field"): Solution 1 with the
-- wrapper calling M.timer_func, version 2.
local M = {}
local count = 0
function M.timer_func()
    count = count + 1
    print("Count v2:", count)
end
function M.timer_wrapper()
    M.timer_func()
end
return M
