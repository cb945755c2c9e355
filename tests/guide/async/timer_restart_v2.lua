-- Guide: "Best Practices > 6. Handling Asynchronous Context": Solution 2's new version.
local M = {}
local count = 0
function M.timer_func()
    count = count + 1
    print("Count v2:", count)
end
return M
