-- Guide: "Best Practices > 6. Handling Asynchronous Context", the problem example as
-- written; `return M` (the wrapper) makes it the module `timer_problem`. Loading it starts
-- the timer, which holds M.timer_func itself.
-- Problem example: timer holds old function reference
local M = {}
local count = 0
function M.timer_func()
count = count + 1
print("Count:", count)
end
-- Start timer
local time = require "silly.time"
local function repeat_call(ms, func)
local function loop()
func()
time.after(ms, loop)
end
loop()
end
repeat_call(1000, M.timer_func) -- Timer holds reference to timer_func
return M
