-- Guide: "Production Environment Practices": the hotfix script the console would inject, run
-- against a live module: sessions survive, the new functions work on them.
local S = require "support"
S.install("mymodule_v1.lua", "mymodule.lua")
local mymodule = require "mymodule"
mymodule.login("ann")
mymodule.login("bob")
S.install("mymodule_v2.lua", "mymodule.lua")
dofile("hotfix_20251014.lua")
S.check(mymodule.online("ann") and mymodule.online("bob"), "sessions kept")
mymodule.logout("ann")
S.check(not mymodule.online("ann"), "logout on the old sessions")
mymodule.login("cid")
S.eq(mymodule.logins(), 1, "logins counted from the fix on")
print("done")
