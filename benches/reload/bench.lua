-- Reload latency, runnable on lua5.4 and hotlua:
--   lua5.4 bench.lua            the Lua-level patch (lua_patch.lua, as silly does it)
--   hotlua bench.lua            the same on hotlua
--   hotlua bench.lua native     hotlua's native silly.patch
-- For each module size N, prints the median time of collect(old) + collect(new) + join +
-- function replacement, and of `load` of the module source, in microseconds.
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

local function time_us(f, reps)
  local samples = {}
  for r = 1, reps do
    local t0 = os.clock()
    f()
    samples[r] = (os.clock() - t0) * 1e6
  end
  return median(samples)
end

print(("%-8s %14s %14s"):format("N", "reload_us", "load_us"))
for _, n in ipairs({ 10, 100, 1000, 10000 }) do
  local src = gen(n)
  local old = load(src, "=mod")()
  local new = load(src, "=mod")()
  local backup = {}
  for k, v in pairs(old) do backup[k] = v end
  local reps = n >= 10000 and 5 or (n >= 1000 and 21 or 101)
  local reload = time_us(function()
    for k, v in pairs(backup) do old[k] = v end
    reload_with(old, new)
    for k, v in pairs(new) do if type(v) == "function" then old[k] = v end end
  end, reps)
  local loadt = time_us(function() assert(load(src, "=mod")) end, reps)
  print(("%-8d %14.1f %14.1f"):format(n, reload, loadt))
end
