-- Beyond the guide: native functions reachable from a module are leaves of the upvalue
-- tree (silly errors on a native with upvalues) and joining around them works.
local S = require "support"
local patch = require "silly.patch"
local old = dofile("native_v1.lua")
S.eq(old.round(2.5), 3, "v1 round")
local P = patch.new()
local up = P:collectupval(old)
S.eq(up.floor.val, math.floor, "a native module field is collected")
S.eq(type(up.floor.upvals), "table", "its upvals is a table")
S.eq(next(up.floor.upvals), nil, "and empty: a leaf")
local f = up.round.upvals.floor
S.eq(f.utype, "function", "native upvalue type")
S.eq(f.val, math.floor, "native upvalue value")
S.eq(f.upvals, nil, "no upvals under a native upvalue")
S.eq(up.say.upvals.out.val, print, "print as an upvalue")
S.eq(up.iter.upvals.iter.upvals, nil, "a native iterator is a leaf")
S.eq(next(P:collectupval(print)), nil, "collectupval of a native: empty")

local new = dofile("native_v2.lua")
local P2 = patch.new()
local absent, conflicts = P2:join(P2:collectupval(new), P2:collectupval(old))
-- v2's round reads a global (math): its new _ENV upvalue is set to the global environment
-- and reported.
S.list_eq(absent, {"$.round._ENV"}, "absent")
S.list_eq(conflicts, {}, "conflicts")
for name, fn in pairs(new) do
    old[name] = fn
end
S.eq(old.round(2.5), 2, "v2 round (its own Lua floor)")
S.eq(old.rounded(), 2, "rounded joined")
old.say("hi")
print("done")
