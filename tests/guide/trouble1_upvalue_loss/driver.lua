-- Guide: "Troubleshooting > Common Error 1: Upvalue Loss". Usage: hotlua driver.lua <reload
-- script>. Without join the new get_timeout fails with the guide's symptom; with join it
-- reads the running config.
local S = require "support"
local reload = arg[1]

S.install("mymodule_v1.lua", "mymodule.lua")
local mymodule = require "mymodule"
mymodule.init({timeout = 5})
S.eq(mymodule.get_timeout(), 5, "v1 timeout")

S.install("mymodule_v2.lua", "mymodule.lua")
dofile(reload)

local ok, v = pcall(mymodule.get_timeout)
print(ok and "timeout" or "error", v)
if reload == "reload_join.lua" then
    S.eq(v, 5000, "v2 code on the old config")
    S.eq(mymodule.get_retries(), 3, "new setting at its initial value")
else
    S.check(not ok, "unconnected upvalue must fail")
end
print("done")
