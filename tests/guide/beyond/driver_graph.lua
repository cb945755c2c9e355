-- Beyond the guide: collectupval and join terminate on a recursive local function and a
-- shared helper, each appears once (the same table), and after the join the new recursive
-- function and the new helper run on the old state.
local S = require "support"
local patch = require "silly.patch"
local old = dofile("graph_v1.lua")
S.eq(old.fact(3), 6, "v1 fact")
old.add(5)
old.sub(2)
local calls, total = old.stats()
S.eq(calls, 3, "v1 calls")
S.eq(total, 3, "v1 total")

local new = dofile("graph_v2.lua")
local P = patch.new()
local up_old = P:collectupval(old)
local up_new = P:collectupval(new)
local inner = up_old.fact.upvals.fact.upvals
S.eq(inner.fact.upvals, inner, "the recursive function's tree is itself")
S.eq(up_old.add.upvals.bump.upvals, up_old.sub.upvals.bump.upvals, "the shared helper is one table")
S.eq(up_new.add.upvals.bump.upvals, up_new.sub.upvals.bump.upvals, "also in the new tree")
local absent, conflicts = P:join(up_new, up_old)
S.list_eq(absent, {}, "absent")
S.list_eq(conflicts, {}, "conflicts")
for name, fn in pairs(new) do
    old[name] = fn
end
S.eq(old.fact(5), 120, "new recursive fact")
S.eq(old.add(2), 23, "new helper through add: 3 + 20")
S.eq(old.sub(1), 13, "new helper through sub: 23 - 10")
calls, total = old.stats()
S.eq(calls, 53, "calls: 3 + 5 * 10")
S.eq(total, 13, "total")
print("stats", calls, total)
print("done")
