-- Guide: "Best Practices > 5. Record Hot Reload Logs", as written. The wrapper (the lines
-- between the snippet's function and its usage example) names the running module and
-- defines `apply_hotfix`, the basic reload, copying VERSION with the functions.
local logger = require "silly.logger"
local time = require "silly.time"
local function log_hotfix(module_name, version_old, version_new, success, error_msg)
local log_entry = {
timestamp = time.now(),
module = module_name,
version_old = version_old,
version_new = version_new,
success = success,
error = error_msg
}
if success then
logger.info("Hotfix applied:", log_entry)
else
logger.error("Hotfix failed:", log_entry)
end
-- Optional: write to database or file
end
local patch = require "silly.patch"
local mymodule = require "mymodule"
local function apply_hotfix()
    package.loaded["mymodule"] = nil
    local ok, mymodule_new = pcall(require, "mymodule")
    package.loaded["mymodule"] = mymodule
    if not ok then
        error(mymodule_new, 0)
    end
    local P = patch.new()
    P:join(P:collectupval(mymodule_new), P:collectupval(mymodule))
    for name, v in pairs(mymodule_new) do
        if type(v) == "function" or name == "VERSION" then
            mymodule[name] = v
        end
    end
end
-- Usage example
local old_version = mymodule.VERSION
-- Perform hot reload...
local success, err = pcall(apply_hotfix)
local new_version = mymodule.VERSION
log_hotfix("mymodule", old_version, new_version, success, err)
