-- Guide: "Best Practices > 6. Handling Asynchronous Context": the module whose timer
-- "Solution 2: Restart timer" restarts (written for the test; the driver starts its timer).
local M = {}
local count = 0
function M.timer_func()
    count = count + 1
    print("Count:", count)
end
return M
