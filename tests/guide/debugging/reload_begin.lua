-- Guide: "Debugging Tips": the wrapper the three tips share (not guide code): builds v1's
-- state, puts v2 in place and loads it next to the running version. Returns the patch
-- object, both modules and both upvalue trees.
local S = require "support"
local patch = require "silly.patch"
S.install("mymodule_v1.lua", "mymodule.lua")
local old_module = require "mymodule"
old_module.add(4)
S.install("mymodule_v2.lua", "mymodule.lua")
package.loaded["mymodule"] = nil
local new_module = require "mymodule"
package.loaded["mymodule"] = old_module
local P = patch.new()
local up_old = P:collectupval(old_module)
local up_new = P:collectupval(new_module)
return P, old_module, new_module, up_old, up_new
