-- Guide: "Best Practices > 6. Handling Asynchronous Context": Solution 1's new version
-- (prints "Count v2:"); it does not start a timer (the running one must pick it up).
local M = {}
local count = 0
local timer_func -- Forward declaration
function timer_func()
count = count + 1
print("Count v2:", count)
end
-- Use wrapper function
function M.timer_wrapper()
timer_func() -- Indirect call via upvalue
end
M.timer_func = timer_func
return M
