-- Beyond the guide (spec/patch.md, function-valued upvalues): a held old closure calling a
-- local function through its upvalue runs the new code after the join, and a callback
-- installed at run time from another chunk is kept as state.
local S = require "support"
local patch = require "silly.patch"
local old = dofile("callback_v1.lua")
local held_tick = old.tick                -- what a timer would hold
S.eq(held_tick(), "v1 step 1", "before")
old.set_handler(dofile("callback_plugin.lua"))
S.eq(old.fire(), "plugin handler", "installed")
local new = dofile("callback_v2.lua")
local P = patch.new()
local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
S.list_eq(absent, {}, "absent")
S.list_eq(conflicts, {}, "conflicts")
for k, f in pairs(new) do old[k] = f end
S.eq(held_tick(), "v2 step 2", "the held old wrapper reaches the new step, with the old count")
S.eq(old.tick(), "v2 step 3", "the new wrapper shares the same step and count")
S.eq(old.fire(), "plugin handler", "the run-time callback survives the reload")
old.set_handler(function() return "replaced" end)
S.eq(old.fire(), "replaced", "new set_handler writes the shared variable")
print("done")
