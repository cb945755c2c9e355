-- Guide: "Using silly.patch > Basic Process". Builds state with version 1, puts version 2 at
-- mymodule.lua's path, runs the 5 steps and checks the state survived and v2 runs.
local S = require "support"

S.install("mymodule_v1.lua", "mymodule.lua")
local mymodule = require "mymodule"
mymodule.add(5)
mymodule.add(7)
local add_v1 = mymodule.add
S.eq(mymodule.get(), 12, "v1 state")
S.eq(mymodule.calls, nil, "v1 has no calls()")

S.install("mymodule_v2.lua", "mymodule.lua")
dofile("basic_process.lua")

S.eq(require "mymodule", mymodule, "package.loaded keeps the old table")
S.check(mymodule.add ~= add_v1, "add replaced")
S.eq(mymodule.get(), 12, "count kept")
S.eq(mymodule.calls(), 0, "new upvalue starts at its initial value")
S.eq(mymodule.add(1), 13, "v2 add continues from the old count")
S.eq(mymodule.calls(), 1, "v2 add and calls() share the new upvalue")
print("count", mymodule.get(), "calls", mymodule.calls())
print("done")
