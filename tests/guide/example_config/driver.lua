-- Guide: "Complete Examples > Example 3: Hot Reload Configuration File".
-- Changes settings with v1, puts config_v2.lua at config.lua's path, runs the guide's
-- hotfix_config.lua verbatim, then checks that changed values survive, new settings are
-- merged in and the new `set` validates.
local S = require "support"

S.install("config_v1.lua", "config.lua")
local config = require "config"
config.set("timeout", 60)
config.set("log_level", "DEBUG")
local settings = config.get_all()

S.install("config_v2.lua", "config.lua")
dofile("hotfix_config.lua")

S.eq(config.get_all(), settings, "the settings table is the old one")
S.eq(config.get("timeout"), 60, "changed timeout kept")
S.eq(config.get("log_level"), "DEBUG", "changed log_level kept")
S.eq(config.get("max_connections"), 1000, "untouched value")
S.eq(config.get("enable_cache"), true, "enable_cache merged")
S.eq(config.get("cache_ttl"), 300, "cache_ttl merged")

-- set now validates.
local err = S.fails(config.set, "timeout", -1)
print("error", err)
S.eq(err, "./config.lua:28: Invalid value for timeout", "timeout -1 rejected")
S.eq(config.get("timeout"), 60, "rejected value not stored")
err = S.fails(config.set, "log_level", "LOUD")
S.eq(err, "./config.lua:28: Invalid value for log_level", "log_level LOUD rejected")
err = S.fails(config.set, "max_connections", 20000)
S.eq(err, "./config.lua:28: Invalid value for max_connections", "20000 connections rejected")

-- Valid sets still work, and keys without a validator are free.
config.set("timeout", 90)
S.eq(config.get("timeout"), 90, "valid timeout")
config.set("max_connections", 10000)
S.eq(config.get("max_connections"), 10000, "valid max_connections")
config.set("log_level", "WARN")
S.eq(config.get("log_level"), "WARN", "valid log_level")
config.set("cache_ttl", 0)
S.eq(config.get("cache_ttl"), 0, "no validator for cache_ttl")
print("done")
