-- Beyond the guide (spec/patch.md, the consistency pass): a function only the new version
-- has sees the running state of a module-level variable no matched function shares with it.
-- Usage: hotlua driver_module_state.lua require|dofile|load: how version 2 is loaded
-- (version 1 is always `require`d). With `require` (the guide's reload; the registry now
-- records version 2) and `dofile` (the registry still records version 1), hits() reads the
-- old module's `hits`; with `load` of version 1 too, there is no module to take state from,
-- and hits() sees its own chunk's (silly's behaviour). In every case a local function stays
-- the new version's.
local S = require "support"
local patch = require "silly.patch"
local how = arg[1]
local old
if how == "load" then
    old = dofile("state_v1.lua")
else
    S.install("state_v1.lua", "state.lua")
    old = require "state"
end
old.hit("a")
old.hit("b")
S.eq(old.count(), 2, "v1 count")
local new
if how == "require" then
    S.install("state_v2.lua", "state.lua")
    package.loaded["state"] = nil
    new = require "state"
    package.loaded["state"] = old
else
    new = dofile("state_v2.lua")
end
local P = patch.new()
local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
S.list_eq(absent, {"$.count.names"}, "absent: count reads names now")
S.list_eq(conflicts, {}, "conflicts")
for k, f in pairs(new) do
    old[k] = f
end
old.hit("c")
local last, x = old.last()
S.eq(last, "[c]", "names is the running list, fmt the new helper")
S.eq(x, "[x]", "last() calls the new fmt")
S.eq(old.count(), 3, "names kept")
print(how, old.hits())
print("done")
