-- Guide: "Troubleshooting > Common Error 4: Circular Reference Issues", the solution snippet
-- as written; the first line (the wrapper) requires silly.patch.
local patch = require "silly.patch"
-- Update all modules first, then connect upvalues
local modules = {"module_a", "module_b", "module_c"}
local old_modules = {}
local new_modules = {}
-- 1. Load all new modules
for _, name in ipairs(modules) do
old_modules[name] = require(name)
package.loaded[name] = nil
new_modules[name] = require(name)
package.loaded[name] = old_modules[name]
end
-- 2. Perform hot reload uniformly
for _, name in ipairs(modules) do
local P = patch.new()
local up_old = P:collectupval(old_modules[name])
local up_new = P:collectupval(new_modules[name])
P:join(up_new, up_old)
for k, v in pairs(new_modules[name]) do
if type(v) == "function" then
old_modules[name][k] = v
end
end
end
