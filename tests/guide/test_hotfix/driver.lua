-- Guide: "Best Practices > 7. Test Hot Reload". test_hotfix.lua loads the old version and
-- then reloads the module from the same path, so the driver loads version 1 first (the
-- script's `require "mymodule"` returns it from package.loaded), then puts version 2 at
-- mymodule.lua's path and runs the script verbatim.
local S = require "support"

S.install("mymodule_v1.lua", "mymodule.lua")
local M1 = require "mymodule"
S.eq(M1.new_function, nil, "v1 has no new_function")
S.install("mymodule_v2.lua", "mymodule.lua")
dofile("test_hotfix.lua")

local testaux = require "test.testaux"
testaux.asserteq(M1.get_data("key3"), "value3", "third entry")
testaux.asserteq(M1.get_data("key2"), "value2", "second entry kept")
M1.add_data("key4", "value4")
testaux.asserteq(M1.count(), 4, "v2 add_data on the shared state")
S.eq(select(2, pcall(testaux.asserteq, 1, 2, "x")), "x: 1 ~= 2", "testaux reports")
print("done")
