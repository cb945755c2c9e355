-- Guide: "Best Practices > 6. Handling Asynchronous Context", the problem: the timer holds
-- the old M.timer_func, so after the hot reload (at 1.5 s) it keeps running the old code on
-- the shared count, while a direct call runs the new code. Timeline: Count 1 (0 s), 2 (1 s),
-- reload (1.5 s), 3 (2 s), direct call v2 4 (2.5 s), 5 (3 s), stop (3.5 s).
local S = require "support"
local time = require "silly.time"
local reload = require "reload"
S.install("timer_problem_v1.lua", "timer_problem.lua")
local M = require "timer_problem"
time.after(1500, function()
    S.install("timer_problem_v2.lua", "timer_problem.lua")
    print("reload", #reload("timer_problem"))
end)
time.after(2500, function()
    M.timer_func()
end)
time.after(3500, function()
    print("done")
    os.exit(0)
end)
