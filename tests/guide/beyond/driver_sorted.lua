-- Beyond the guide: join's `absent` is sorted, the same on every run (silly's follows the
-- hash seed). Two independent reloads in the process give the same list.
local S = require "support"
local patch = require "silly.patch"
local function reload()
    local old = dofile("sorted_v1.lua")
    local new = dofile("sorted_v2.lua")
    local P = patch.new()
    return (P:join(P:collectupval(new), P:collectupval(old)))
end
local a = reload()
local expected = {
    "$.aa.delta", "$.aa.kilo", "$.aa.zeta", "$.get.alpha", "$.get.zeta", "$.mm.alpha",
    "$.mm.delta", "$.zz.beta", "$.zz.mid", "$.zz.yank",
}
S.list_eq(a, expected, "absent")
S.list_eq(reload(), a, "second reload")
print(table.concat(a, " "))
print("done")
