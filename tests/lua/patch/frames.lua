-- issue 13 item 3 "Frames running old code": a task sleeping inside v1's loop while v2
-- changes the helper's signature. Under "refuse" the patch is refused (the report names
-- the frame); under the default "finish-old" it applies, the sleeping frame finishes on v1
-- (its call to the helper included: no crash), and new calls run v2.
local S = require "support"
local reload = require "hotlua.reload"
local task = require "silly.task"
local time = require "silly.time"
S.install("mods/loop_v1.lua", "loop.lua")
local M = require "loop"
local out = {}
task.fork(function()
    M.loop({name = "bob", level = 3}, 3, out)
end)
time.sleep(10) -- the task is now asleep inside M.loop
S.install("mods/loop_v2.lua", "loop.lua")
local plan = reload.plan({"loop"})
local frame = plan.modules.loop.frames[1]
print("plan", plan.ok, #plan.modules.loop.frames, frame["function"], type(frame.thread))
S.check(frame.traceback:find("loop.lua:9: in function 'loop.loop'", 1, true), frame.traceback)
local ok, report = reload.apply({"loop"}, {frames = "refuse"})
print("refuse", ok, report.step, report.error)
ok, report = reload.apply({"loop"})
print("finish-old", ok, #report.modules.loop.frames)
time.sleep(100)
print(S.join(out))
local fresh = {}
M.loop({name = "ann", level = 1}, 1, fresh)
print(S.join(fresh))
