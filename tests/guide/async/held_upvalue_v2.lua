-- Guide: "Best Practices > 6. Handling Asynchronous Context", Solution 1's module (version
-- 2) without its timer line: the driver holds M.timer_wrapper itself, as the timer would,
-- so the claim can be checked without silly.time.
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
