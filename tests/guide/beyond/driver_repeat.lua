-- Beyond the guide: reloads in a row (v1 -> v2 -> v3 -> v3 again). Each reload joins to the
-- cells the previous one kept, so the state runs through all of them; an upvalue new in v2
-- is absent once, then joined like any other.
local S = require "support"
local patch = require "silly.patch"
local function reload(old, file)
    local new = dofile(file)
    local P = patch.new()
    local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
    for k, f in pairs(new) do
        old[k] = f
    end
    return absent, conflicts
end
local m = dofile("repeat_v1.lua")
m.inc()
m.inc()
local absent, conflicts = reload(m, "repeat_v2.lua")
S.list_eq(absent, {"$.extra.extra"}, "v2 absent")
S.list_eq(conflicts, {}, "v2 conflicts")
S.eq(m.inc(), 12, "v2 inc")
S.eq(m.extra(), 6, "v2 extra")
absent = reload(m, "repeat_v3.lua")
S.list_eq(absent, {}, "v3 absent")
S.eq(m.inc(), 112, "v3 inc")
S.eq(m.extra(), 8, "v3 extra")
absent = reload(m, "repeat_v3.lua")
S.list_eq(absent, {}, "v3 again absent")
S.eq(m.inc(), 212, "v3 again inc")
S.eq(m.extra(), 10, "v3 again extra")
print("done")
