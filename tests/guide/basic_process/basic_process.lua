-- Guide: "Using silly.patch > Basic Process" (the 5 steps), as written; the snippet starts
-- after its first line (`local patch = require "silly.patch"`, from "Import Module").
local patch = require "silly.patch"
-- 1. Create patch instance
local P = patch.new()
-- 2. Get old module reference
local old_module = require "mymodule"
-- 3. Load new module (temporary load, doesn't affect package.loaded)
package.loaded["mymodule"] = nil
local new_module = require "mymodule"
package.loaded["mymodule"] = old_module -- Restore old module reference
-- 4. Collect and connect upvalues
local up_old = P:collectupval(old_module)
local up_new = P:collectupval(new_module)
local absent = P:join(up_new, up_old) -- new -> old
-- 5. Replace function references
for name, fn in pairs(new_module) do
if type(fn) == "function" then
old_module[name] = fn
end
end
-- Check if there are missing upvalues
if #absent > 0 then
print("Warning: new module has upvalues not in old module:")
for _, path in ipairs(absent) do
print(" " .. path)
end
end
