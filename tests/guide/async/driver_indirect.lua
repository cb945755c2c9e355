-- Guide: "Best Practices > 6. Handling Asynchronous Context", Solution 1: the timer holds
-- M.timer_wrapper, which calls timer_func through an upvalue. The guide says the reload
-- updates it, but silly.patch (silly's and hotlua's) never joins a function-valued upvalue:
-- the old wrapper keeps calling the old timer_func, on the count the new one shares. So
-- after the reload (1.5 s) the timer still prints "Count:". Timeline: Count 1 (0 s), 2
-- (1 s), reload (1.5 s), Count 3 (2 s), 4 (3 s), stop (3.5 s). driver_indirect_engine.lua
-- does the same reload with `hotlua.reload`, which keeps the guide's promise.
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
