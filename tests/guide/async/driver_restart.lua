-- Guide: "Best Practices > 6. Handling Asynchronous Context", Solution 2: cancel the timer,
-- reload, start it again with the new function. Timeline: Count 1 (0 s), 2 (1 s), restart
-- (1.5 s) Count v2 3, 4 (2.5 s), stop (3 s); the old timer never fires again.
local S = require "support"
local time = require "silly.time"
local T = require "timers"
S.install("timer_restart_v1.lua", "timer_restart.lua")
local M = require "timer_restart"
M.timer_handle = T.repeat_call(1000, M.timer_func, M)
time.after(1500, function()
    S.install("timer_restart_v2.lua", "timer_restart.lua")
    dofile("restart.lua")
end)
time.after(3000, function()
    time.cancel(M.timer_handle)
    print("done")
    os.exit(0)
end)
