-- Guide: "Best Practices > 6. Handling Asynchronous Context", "Solution 2: Restart timer" as
-- written; the wrapper (the first lines and the lines under "Perform hot reload...") names
-- the module `M`, provides time/repeat_call and does the basic reload.
local time = require "silly.time"
local T = require "timers"
local M = require "timer_restart"
local function repeat_call(ms, func)
    return T.repeat_call(ms, func, M)
end
-- Stop old timer
if M.timer_handle then
time.cancel(M.timer_handle)
end
-- Perform hot reload...
local patch = require "silly.patch"
package.loaded["timer_restart"] = nil
local M_new = require "timer_restart"
package.loaded["timer_restart"] = M
local P = patch.new()
P:join(P:collectupval(M_new), P:collectupval(M))
for name, fn in pairs(M_new) do
    if type(fn) == "function" then
        M[name] = fn
    end
end
-- Start new timer
M.timer_handle = repeat_call(1000, M.timer_func)
