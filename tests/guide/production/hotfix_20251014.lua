-- Guide: "Production Environment Practices > 1. Prepare Hot Reload Script", as written
-- (the console's `inject` comes later; the driver runs it with dofile).
-- /tmp/hotfix_20251014.lua
local patch = require "silly.patch"
local logger = require "silly.logger"
logger.info("Starting hotfix 20251014...")
-- Perform hot reload
local mymodule = require "mymodule"
package.loaded["mymodule"] = nil
local mymodule_new = require "mymodule"
package.loaded["mymodule"] = mymodule
local P = patch.new()
local up_old = P:collectupval(mymodule)
local up_new = P:collectupval(mymodule_new)
local absent = P:join(up_new, up_old)
for name, fn in pairs(mymodule_new) do
if type(fn) == "function" then
mymodule[name] = fn
end
end
logger.info("Hotfix 20251014 completed successfully")
if #absent > 0 then
logger.warn("New upvalues:", table.concat(absent, ", "))
end
