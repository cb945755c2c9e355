-- Beyond the guide (spec/patch.md, function-valued upvalues): silly.patch never joins an
-- upvalue that holds a function, as silly. So a held old closure calling a local function
-- through its upvalue keeps running the old code (on the joined state), the new closures
-- run the new code, and a callback another chunk installed at run time is not carried over
-- to the new closures (the old ones keep it). A native engine (`hotlua.reload`) is what
-- updates held closures in place.
local S = require "support"
local patch = require "silly.patch"
local old = dofile("callback_v1.lua")
local held_tick = old.tick                -- what a timer would hold
local held_fire = old.fire
S.eq(held_tick(), "v1 step 1", "before")
old.set_handler(dofile("callback_plugin.lua"))
S.eq(old.fire(), "plugin handler", "installed")
local new = dofile("callback_v2.lua")
local P = patch.new()
local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
S.list_eq(absent, {}, "absent")
S.list_eq(conflicts, {}, "conflicts")
for k, f in pairs(new) do old[k] = f end
S.eq(held_tick(), "v1 step 2", "the held old wrapper keeps the old step, on the joined count")
S.eq(old.tick(), "v2 step 3", "the new wrapper calls the new step on the same count")
S.eq(held_tick(), "v1 step 4", "both step functions share the count")
S.eq(old.fire(), "v2 default", "the new fire reads the new version's own handler variable")
S.eq(held_fire(), "plugin handler", "the held old fire keeps the installed callback")
old.set_handler(function() return "replaced" end)
S.eq(old.fire(), "replaced", "new set_handler writes the new fire's variable")
S.eq(held_fire(), "plugin handler", "which is not the old closures' variable")
print("done")
