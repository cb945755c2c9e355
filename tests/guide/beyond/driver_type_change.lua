-- Beyond the guide: an upvalue whose type changed between versions (silly: an assertion
-- failure) is reported in join's second result, `conflicts`, and left unjoined: the new
-- functions keep their own `limit`, the old closures keep theirs, other upvalues are joined.
local S = require "support"
local patch = require "silly.patch"
local old = dofile("typechange_v1.lua")
old.check(5)
old.check(15)
local old_check = old.check
local new = dofile("typechange_v2.lua")
local P = patch.new()
local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
S.list_eq(absent, {}, "absent")
S.list_eq(conflicts, {"$.check.limit", "$.get_limit.limit"}, "conflicts")
for name, fn in pairs(new) do
    old[name] = fn
end
S.eq(old.count(), 2, "count joined")
S.eq(old.check(15), true, "new check uses the new table limit")
S.eq(old.get_limit().max, 20, "new limit unjoined")
S.eq(old_check(15), false, "the old closure keeps the old number")
S.eq(old.count(), 4, "old and new share count")
print("conflicts", table.concat(conflicts, ", "))
print("done")
