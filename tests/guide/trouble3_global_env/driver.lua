-- Guide: "Troubleshooting > Common Error 3: Global Variable Pollution". After the reload the
-- new functions share the old _ENV (joined like any table upvalue), the merge loop added the
-- new globals and kept the running value of an existing one.
local S = require "support"

S.install("mymodule_v1.lua", "mymodule.lua")
local mymodule = require "mymodule"
S.eq(mymodule.greet("ann"), "Hello, ann", "v1 greet")

S.install("mymodule_v2.lua", "mymodule.lua")
dofile("reload_env.lua")

S.eq(TRACE, true, "new global merged")
S.eq(type(decorate), "function", "new global function merged")
S.eq(GREETING, "Hello", "existing global not overwritten")
local g = mymodule.greet("bob")
S.eq(g, "<Hello, bob>", "v2 greet on the merged globals")
S.eq(mymodule.hits(), 2, "hits kept")
print(g, mymodule.hits())
print("done")
