-- Guide: "Best Practices > 6. Handling Asynchronous Context", Solution 1: the timer holds
-- M.timer_wrapper, which calls timer_func through an upvalue; the guide says the reload
-- updates it, so after the reload (1.5 s) the timer runs the new code. Timeline: Count 1
-- (0 s), 2 (1 s), reload (1.5 s), Count v2 3 (2 s), 4 (3 s), stop (3.5 s).
local S = require "support"
local time = require "silly.time"
local reload = require "reload"
S.install("timer_indirect_v1.lua", "timer_indirect.lua")
require "timer_indirect"
time.after(1500, function()
    S.install("timer_indirect_v2.lua", "timer_indirect.lua")
    print("reload", #reload("timer_indirect"))
end)
time.after(3500, function()
    print("done")
    os.exit(0)
end)
