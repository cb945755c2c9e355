-- Guide: "Best Practices > 4. Rollback Mechanism", when the reload itself succeeded (join
-- and replacement loop) and is rolled back afterwards from the backup, as the guide's
-- rollback loop does. The old functions must run the old code again, including the local
-- helper they call through an upvalue: join must not have written the new greet into the
-- old functions' cells. State (count) stays shared throughout.
local S = require "support"
local patch = require "silly.patch"
S.install("greet_v1.lua", "mymodule.lua")
local mymodule = require "mymodule"
S.eq(mymodule.hello("ann"), "Hello, ann #1", "v1")
-- Backup old version
local backup = {}
for name, fn in pairs(mymodule) do
backup[name] = fn
end
S.install("greet_v2.lua", "mymodule.lua")
-- Load new version
package.loaded["mymodule"] = nil
local mymodule_new = require "mymodule"
package.loaded["mymodule"] = mymodule
-- Perform hot reload
local P = patch.new()
local up_old = P:collectupval(mymodule)
local up_new = P:collectupval(mymodule_new)
local absent = P:join(up_new, up_old)
S.list_eq(absent, {}, "absent")
-- Replace functions
for name, fn in pairs(mymodule_new) do
if type(fn) == "function" then
mymodule[name] = fn
end
end
print(mymodule.hello("bob"))
S.eq(backup.hello("cid"), "Hello, cid #3", "a held old hello keeps the old greet meanwhile")
-- Roll back to old version
for name, fn in pairs(backup) do
mymodule[name] = fn
end
print(mymodule.hello("dee"))
S.eq(mymodule.count(), 4, "one count throughout")
print("done")
