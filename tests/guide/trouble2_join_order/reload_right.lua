-- Guide: "Troubleshooting > Common Error 2: Parameter Order Wrong", the ✅ line of the
-- solution snippet as written, inside the basic reload (the wrapper: every other line).
local patch = require "silly.patch"
local old_module = require "mymodule"
package.loaded["mymodule"] = nil
local new_module = require "mymodule"
package.loaded["mymodule"] = old_module
local P = patch.new()
local up_old = P:collectupval(old_module)
local up_new = P:collectupval(new_module)
-- ✅ Correct: new -> old
P:join(up_new, up_old) -- New function uses old upvalues
for name, fn in pairs(new_module) do
    if type(fn) == "function" then
        old_module[name] = fn
    end
end
