-- Guide: "Best Practices > 7. Test Hot Reload", the test script as written (verbatim).
-- test_hotfix.lua
local patch = require "silly.patch"
local testaux = require "test.testaux"
-- Load old version
local M1 = require "mymodule"
-- Perform some operations, establish state
M1.add_data("key1", "value1")
M1.add_data("key2", "value2")
assert(M1.count() == 2, "Initial state")
-- Perform hot reload
package.loaded["mymodule"] = nil
local M2 = require "mymodule"
package.loaded["mymodule"] = M1
local P = patch.new()
local up1 = P:collectupval(M1)
local up2 = P:collectupval(M2)
P:join(up2, up1)
for k, v in pairs(M2) do
if type(v) == "function" then
M1[k] = v
end
end
-- Verify state preservation
assert(M1.count() == 2, "State preserved after hotfix")
assert(M1.get_data("key1") == "value1", "Data preserved")
-- Test new functionality
M1.new_function()
assert(M1.count() == 3, "New function works")
print("Hotfix test passed")
