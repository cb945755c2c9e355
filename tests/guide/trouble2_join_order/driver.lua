-- Guide: "Troubleshooting > Common Error 2: Parameter Order Wrong". Usage: hotlua driver.lua
-- wrong|right. Reversed, the old closures are connected to the new chunk's variables: the
-- state is reset to its initial values, even through a reference to the old function kept
-- from before the reload. In the right order the state is kept.
local S = require "support"
local which = arg[1]

S.install("mymodule_v1.lua", "mymodule.lua")
local mymodule = require "mymodule"
mymodule.add(5)
mymodule.add(6)
local old_get = mymodule.get
S.eq(mymodule.get(), 11, "v1 state")

S.install("mymodule_v2.lua", "mymodule.lua")
dofile("reload_" .. which .. ".lua")

print(which, mymodule.get(), old_get())
if which == "wrong" then
    S.eq(mymodule.get(), 0, "state reset")
    S.eq(old_get(), 0, "the old closure now reads the new chunk's count")
else
    S.eq(mymodule.get(), 11, "state kept")
    S.eq(old_get(), 11, "the old closure keeps its count")
    S.eq(mymodule.add(1), 12, "new add on the old count")
    S.eq(old_get(), 12, "old and new share the count")
end
print("done")
