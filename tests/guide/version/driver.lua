-- Guide: "Best Practices > 3. Version Management". Usage: hotlua driver.lua <running version
-- file>. Running 1.2.2, the check passes and the reload brings 1.2.3; running 1.2.3 already,
-- the check refuses with the guide's message.
local S = require "support"
S.install(arg[1], "mymodule.lua")
local mymodule = require "mymodule"
mymodule.order()
mymodule.order()
S.install("mymodule_v2.lua", "mymodule.lua")
local ok, err = pcall(dofile, "version_check.lua")
if ok then
    S.eq(mymodule.VERSION, "1.2.3", "version")
    S.eq(mymodule.BUILD_TIME, "2025-10-14T12:00:00Z", "build time")
    S.eq(mymodule.order(), 4, "v2 order on the kept state")
    print("updated", mymodule.VERSION, mymodule.order())
else
    S.eq(mymodule.VERSION, "1.2.3", "untouched")
    print("refused", err)
end
print("done")
