-- silly's upstream patch test, case 3 (our own version): a local function `tick` that
-- reschedules itself with a timer (every 20 ms), started by M.start.
local time = require "silly.time"
local M = {}
local foo
local tick
function tick()
    foo = "hello"
    upstream_case3_log[#upstream_case3_log + 1] = "old"
    time.after(20, tick)
end
function M.start()
    tick()
    foo = "bar"
end
function M.get_foo()
    return foo
end
return M
