-- Reload latency, runnable on lua5.4 and hotlua:
--   lua5.4 bench.lua            the Lua-level patch (lua_patch.lua, as silly does it)
--   hotlua bench.lua            the same on hotlua
--   hotlua bench.lua native     hotlua's native silly.patch
-- For each module size N, prints medians in microseconds of: reload_us, collect(old) +
-- collect(new) + join + function replacement on an already loaded new version; load_us,
-- `load` of the module source; whole_us, the whole reload: load and run the new source,
-- then collect + join + replacement. Restoring the old fields between samples is untimed, and
-- so is, before each reload_us sample, a full collection of the garbage of the untimed load.
package.path = "./?.lua;" .. package.path
local gen = require "gen_module"

local reload_with
if arg and arg[1] == "native" then
  local patch = require "silly.patch"
  reload_with = function(old, new)
    local P = patch.new()
    local up_old = P:collectupval(old)
    local up_new = P:collectupval(new)
    P:join(up_new, up_old)
  end
else
  local lua_patch = require "lua_patch"
  reload_with = function(old, new)
    local up_old = lua_patch.collect(old)
    local up_new = lua_patch.collect(new)
    lua_patch.join(up_new, up_old)
  end
end

local function median(t) table.sort(t) return t[(#t + 1) // 2] end

-- `setup`, when given, runs before each sample, untimed.
local function time_us(f, reps, setup)
  local samples = {}
  for r = 1, reps do
    if setup then setup() end
    local t0 = os.clock()
    f()
    samples[r] = (os.clock() - t0) * 1e6
  end
  return median(samples)
end

print(("%-8s %12s %12s %12s"):format("N", "reload_us", "load_us", "whole_us"))
for _, n in ipairs({ 10, 100, 1000, 10000 }) do
  local src = gen(n)
  local old = load(src, "=mod")()
  local new
  local backup = {}
  for k, v in pairs(old) do backup[k] = v end
  local function restore() for k, v in pairs(backup) do old[k] = v end end
  local reps = n >= 10000 and 5 or (n >= 1000 and 21 or 101)
  -- collect + join + replacement, on a freshly loaded new version (loaded untimed)
  local reload = time_us(function()
    reload_with(old, new)
    for k, v in pairs(new) do if type(v) == "function" then old[k] = v end end
  end, reps, function() restore() new = load(src, "=mod")() collectgarbage() end)
  local loadt = time_us(function() assert(load(src, "=mod")) end, reps)
  -- the whole reload: compile and run the new source, then collect + join + replacement
  local whole = time_us(function()
    local fresh = assert(load(src, "=mod"))()
    reload_with(old, fresh)
    for k, v in pairs(fresh) do if type(v) == "function" then old[k] = v end end
  end, reps, restore)
  print(("%-8d %12.1f %12.1f %12.1f"):format(n, reload, loadt, whole))
end
