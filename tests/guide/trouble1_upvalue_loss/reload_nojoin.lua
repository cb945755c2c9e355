-- Guide: "Troubleshooting > Common Error 1: Upvalue Loss": the mistake. The new functions
-- replace the old ones without P:join, so their `config` is the new chunk's own (nil).
local old_module = require "mymodule"
package.loaded["mymodule"] = nil
local new_module = require "mymodule"
package.loaded["mymodule"] = old_module
for name, fn in pairs(new_module) do
    if type(fn) == "function" then
        old_module[name] = fn
    end
end
