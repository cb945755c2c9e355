-- Guide: "Best Practices > 6. Handling Asynchronous Context", Solution 1 without timers.
-- Usage: hotlua driver_held.lua upvalue|field. A reference to M.timer_wrapper taken before
-- the reload stands for the timer's; after the reload, calling it must run the new code on
-- the same count.
local S = require "support"
local reload = require "reload"
local kind = arg[1]
S.install("held_" .. kind .. "_v1.lua", "held.lua")
local M = require "held"
local held = M.timer_wrapper
held()
held()
S.install("held_" .. kind .. "_v2.lua", "held.lua")
local absent, conflicts = reload("held")
S.list_eq(absent, {}, "absent")
S.list_eq(conflicts, {}, "conflicts")
held()
M.timer_wrapper()
print("done")
