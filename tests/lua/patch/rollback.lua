-- issue 13 item 3 "rollback": puts the previous version's code back in place through the
-- same engine; state (cell values) is kept; fields the patch wrote are restored where they
-- still hold what it wrote. versions() lists each version with a number, a hash and a time.
local S = require "support"
local reload = require "hotlua.reload"
S.install("mods/greeter_v1.lua", "greeter.lua")
local M = require "greeter"
local handle = M.handle
print(handle("ann"))
S.install("mods/greeter_v2.lua", "greeter.lua")
local ok, report = reload.apply({"greeter"})
print("apply", ok, M.legacy, M.count())
print(handle("bob"))
ok, report = reload.rollback("greeter")
local f = report.modules.greeter.fields
print("rollback", ok, report.modules.greeter.from, report.modules.greeter.to,
    "removed", S.join(f.removed), "replaced", S.join(f.replaced))
-- The local helper is v1's again, for the held closure too; the count went on.
print(handle("cid"), M.legacy(), M.count, rawequal(handle, M.handle))
for _, v in ipairs(reload.versions("greeter")) do
    print("version", v.version, #v.hash, type(v.time), v.current, v.rolled_back)
end
ok, report = reload.rollback("greeter")
print("again", ok, report.step, report.error)
S.install("mods/greeter_v2.lua", "greeter.lua")
ok, report = reload.apply({"greeter"})
print("v3", ok, report.modules.greeter.to, handle("dan"))
ok = reload.rollback("greeter")
print("back to", reload.versions("greeter")[1].current, handle("eve"))
print(reload.versions("nothing"))
