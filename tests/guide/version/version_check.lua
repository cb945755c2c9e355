-- Guide: "Best Practices > 3. Version Management", the check snippet as written; the wrapper
-- (the first line and the lines under "Perform hot reload...") names the running module and
-- does the reload, copying VERSION along with the functions.
local mymodule = require "mymodule"
local expected_version = "1.2.2"
if mymodule.VERSION ~= expected_version then
error(string.format(
"Version mismatch: expected %s, got %s",
expected_version,
mymodule.VERSION
))
end
-- Perform hot reload...
local patch = require "silly.patch"
package.loaded["mymodule"] = nil
local mymodule_new = require "mymodule"
package.loaded["mymodule"] = mymodule
local P = patch.new()
local up_old = P:collectupval(mymodule)
local up_new = P:collectupval(mymodule_new)
assert(up_old.VERSION == nil and up_old.BUILD_TIME == nil, "non-function fields are skipped")
local absent, conflicts = P:join(up_new, up_old)
assert(#absent == 0 and #conflicts == 0, "nothing absent or in conflict")
for name, v in pairs(mymodule_new) do
    if type(v) == "function" or name == "VERSION" or name == "BUILD_TIME" then
        mymodule[name] = v
    end
end
-- Verify after update
assert(mymodule.VERSION == "1.2.3", "Hotfix failed: version not updated")
