-- silly's upstream patch test, case 3, version 2: tick runs every 30 ms and stops once
-- `tick` is nil, which the new M.stop (only this version has it) sets. tick and stop must
-- share one `tick` variable after the reload, or the timer never stops.
local time = require "silly.time"
local M = {}
local foo
local tick
function tick()
    if not tick then
        return
    end
    foo = "world"
    upstream_case3_log[#upstream_case3_log + 1] = "new"
    time.after(30, tick)
end
function M.start()
    tick()
    foo = "bar"
end
function M.get_foo()
    return foo
end
function M.stop()
    tick = nil
end
return M
