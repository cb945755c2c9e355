-- issue 13 item 2: a module's top-level locals outlive its main chunk as cells even when no
-- closure captured them, so v2 binds the running state of a local v1's functions never used:
-- nothing is new or absent, no state is split.
local S = require "support"
local reload = require "hotlua.reload"
S.install("mods/cache_v1.lua", "cache.lua")
local M = require "cache"
print(M.get())
S.install("mods/cache_v2.lua", "cache.lua")
local ok, report = reload.apply({"cache"})
local m = report.modules.cache
print("apply", ok, "kept", S.join(m.upvalues.kept), "new", #m.upvalues.new)
print(M.get(), M.get())
