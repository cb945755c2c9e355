-- Guide: "Troubleshooting > Common Error 1: Upvalue Loss", the solution snippet as written,
-- inside the basic reload (the wrapper: every line but the snippet's).
local patch = require "silly.patch"
local old_module = require "mymodule"
package.loaded["mymodule"] = nil
local new_module = require "mymodule"
package.loaded["mymodule"] = old_module
local P = patch.new()
local up_old = P:collectupval(old_module)
local up_new = P:collectupval(new_module)
-- Check absent list
local absent = P:join(up_new, up_old)
if #absent > 0 then
print("Missing upvalues:", table.concat(absent, ", "))
-- Manually handle missing upvalues
end
for name, fn in pairs(new_module) do
    if type(fn) == "function" then
        old_module[name] = fn
    end
end
