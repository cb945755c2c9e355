-- Guide: "Best Practices > 6. Handling Asynchronous Context": the problem module's new
-- version (prints "Count v2:"); the hot reload loads it without starting a second timer.
local M = {}
local count = 0
function M.timer_func()
count = count + 1
print("Count v2:", count)
end
return M
