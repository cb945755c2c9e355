-- Guide: "Best Practices > 5. Record Hot Reload Logs". Usage: hotlua driver.lua <new version
-- file>. Runs the logged reload; the Rust test checks the log line (its timestamp field is
-- time.now(), a number).
local S = require "support"
S.install("mymodule_v1.lua", "mymodule.lua")
local mymodule = require "mymodule"
mymodule.hit()
S.install(arg[1], "mymodule.lua")
local before = require "silly.time".now()
dofile("hotfix_log.lua")
S.check(math.type(before) == "integer" or math.type(before) == "float", "time.now() is a number")
print("hit", mymodule.hit(), mymodule.VERSION)
print("done")
