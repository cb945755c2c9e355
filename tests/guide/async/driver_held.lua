-- Guide: "Best Practices > 6. Handling Asynchronous Context", Solution 1 without timers.
-- Usage: hotlua driver_held.lua upvalue|field [silly|engine]. A reference to
-- M.timer_wrapper taken before the reload stands for the timer's. The reload is the
-- guide's silly.patch one (default) or `hotlua.reload` (engine), which updates closures in
-- place. With silly.patch the held wrapper calling timer_func through an upvalue keeps the
-- old timer_func (silly never joins a function-valued upvalue), on the shared count; calling
-- through a module field, it runs the new code. With the engine it runs the new code.
local S = require "support"
local reload = require "reload"
local kind, how = arg[1], arg[2] or "silly"
S.install("held_" .. kind .. "_v1.lua", "held.lua")
local M = require "held"
local held = M.timer_wrapper
held()
held()
S.install("held_" .. kind .. "_v2.lua", "held.lua")
if how == "engine" then
    local ok, report = require("hotlua.reload").apply({"held"})
    S.check(ok, report.error)
else
    local absent, conflicts = reload("held")
    S.list_eq(absent, {}, "absent")
    S.list_eq(conflicts, {}, "conflicts")
end
held()
M.timer_wrapper()
print("done")
