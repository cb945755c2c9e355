-- Guide: "Basic Concepts > Upvalue Continuity": with silly.patch the new `increment` shares
-- the old `count` and runs the new code (+2).
local S = require "support"

S.install("counter_v1.lua", "counter.lua")
local counter = require "counter"
S.eq(counter.increment(), 101, "old code: 100 -> 101")
local old_increment = counter.increment

S.install("counter_v2.lua", "counter.lua")
dofile("continuity_patch.lua")

S.check(counter.increment ~= old_increment, "increment replaced")
local a = counter.increment()
local b = counter.increment()
S.eq(a, 103, "patched: 101 + 2")
S.eq(b, 105, "patched: 103 + 2")
S.eq(increment, counter.increment, "the global is the same new closure")
print("patched", a, b)
print("done")
