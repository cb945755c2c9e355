-- Guide: "Best Practices > 4. Rollback Mechanism". Usage: hotlua driver.lua <v1> <v2> <mode>
-- with mode "fail" (the reload must fail: every function restored to the old one, still
-- working on the old state) or "ok" (the reload must apply).
local S = require "support"
local v1, v2, mode = arg[1], arg[2], arg[3]

S.install(v1, "mymodule.lua")
local mymodule = require "mymodule"
mymodule.add(3)
mymodule.add(4)
local before = {}
for name, fn in pairs(mymodule) do
    before[name] = fn
end

S.install(v2, "mymodule.lua")
dofile("rollback.lua")

S.eq(package.loaded["mymodule"], mymodule, "package.loaded keeps the old table")
if mode == "fail" then
    for name, fn in pairs(before) do
        S.eq(mymodule[name], fn, "restored " .. name)
    end
    S.eq(S.count(mymodule), S.count(before), "no field added")
    S.eq(mymodule.total(), 7, "old state")
    S.eq(mymodule.add(10), 17, "old add on old state")
    S.eq(mymodule.size(), 3, "old items")
    print("rolled back", mymodule.total(), mymodule.size())
else
    for name, fn in pairs(before) do
        S.check(mymodule[name] ~= fn, "replaced " .. name)
    end
    S.eq(mymodule.total(), 7, "state kept")
    S.eq(mymodule.add(10), 27, "new add on the old state")
    S.eq(mymodule.size(), 3, "items kept")
    S.eq(mymodule.calls(), 1, "new upvalue counts from 0")
    print("applied", mymodule.total(), mymodule.size())
end
print("done")
