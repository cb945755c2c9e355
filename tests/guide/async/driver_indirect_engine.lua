-- Guide: "Best Practices > 6. Handling Asynchronous Context", Solution 1 reloaded with
-- `hotlua.reload` instead of silly.patch: the engine updates the closures in place, so the
-- timer's wrapper runs the new timer_func on the same count, as the guide says. Timeline:
-- Count 1 (0 s), 2 (1 s), reload (1.5 s), Count v2 3 (2 s), 4 (3 s), stop (3.5 s).
local S = require "support"
local time = require "silly.time"
S.install("timer_indirect_v1.lua", "timer_indirect.lua")
require "timer_indirect"
time.after(1500, function()
    S.install("timer_indirect_v2.lua", "timer_indirect.lua")
    local ok, report = require("hotlua.reload").apply({"timer_indirect"})
    print("reload", ok, report.error)
end)
time.after(3500, function()
    print("done")
    os.exit(0)
end)
