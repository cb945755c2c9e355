-- The guide's Example 3 (config) through hotlua.reload, v1 and v2 verbatim from
-- ../shared/seed/examples (arg[1]): changed settings keep their values (the running
-- `settings` table is state), enable_cache and cache_ttl are merged in (a kept plain table
-- gets the keys it lacks), and set now validates.
local S = require "support"
local reload = require "hotlua.reload"
local ex = arg[1]
S.install(ex .. "/config_v1.lua", "config.lua")
local config = require "config"
config.set("timeout", 60)
local all = config.get_all()
S.install(ex .. "/config_v2.lua", "config.lua")
local ok, report = reload.apply({"config"})
local m = report.modules.config
print("apply", ok, "merged", S.join(m.fields.merged), "new", S.join(m.upvalues.new))
print(config.get("timeout"), config.get("enable_cache"), config.get("cache_ttl"), config.get_all() == all)
local okset, err = pcall(config.set, "max_connections", -1)
print("validate", okset, err)
config.set("max_connections", 500)
print(config.get("max_connections"))
