-- Guide: "Best Practices > 6. Handling Asynchronous Context", "Solution 1: Use indirect
-- invocation" as written; the wrapper (the first two lines and `return M`) provides
-- repeat_call and makes it the module `timer_indirect`.
local time = require "silly.time"
local repeat_call = require("timers").repeat_call
local M = {}
local count = 0
local timer_func -- Forward declaration
function timer_func()
count = count + 1
print("Count:", count)
end
-- Use wrapper function
function M.timer_wrapper()
timer_func() -- Indirect call via upvalue
end
M.timer_func = timer_func
-- Start timer
repeat_call(1000, M.timer_wrapper)
-- During hot reload, timer_func is an upvalue of timer_wrapper
-- Can be correctly updated via patch
return M
