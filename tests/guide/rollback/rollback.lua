-- Guide: "Best Practices > 4. Rollback Mechanism", as written; the wrapper's line below the
-- requires names the running module the snippet calls `mymodule`.
local patch = require "silly.patch"
local logger = require "silly.logger"
local mymodule = require "mymodule"
-- Backup old version
local backup = {}
for name, fn in pairs(mymodule) do
backup[name] = fn
end
-- Attempt hot reload
local success, err = pcall(function()
-- Load new version
package.loaded["mymodule"] = nil
local mymodule_new = require "mymodule"
package.loaded["mymodule"] = mymodule
-- Perform hot reload
local P = patch.new()
local up_old = P:collectupval(mymodule)
local up_new = P:collectupval(mymodule_new)
local absent = P:join(up_new, up_old)
-- Check missing upvalues
if #absent > 3 then -- Assume maximum 3 new upvalues allowed
error("Too many missing upvalues: " .. table.concat(absent, ", "))
end
-- Replace functions
for name, fn in pairs(mymodule_new) do
if type(fn) == "function" then
mymodule[name] = fn
end
end
end)
if not success then
logger.error("Hotfix failed:", err)
logger.info("Rolling back...")
-- Roll back to old version
for name, fn in pairs(backup) do
mymodule[name] = fn
end
logger.info("Rollback completed")
else
logger.info("Hotfix applied successfully")
end
