-- The engine's reload latency (hotlua only): `require "hotlua.reload"` on the module shape of
-- gen_module.lua (N functions of 3 upvalues drawn from 150 shared module locals).
--   hotlua engine.lua
-- For each N, prints medians in microseconds of: plan_us, reload.plan (compile and match);
-- one_us, reload.apply of a version where one function changed; all_us, reload.apply of a
-- version where every function changed (compile, run the new chunk, match, swap every live
-- closure, module table, commit). Each apply alternates between two versions, so every
-- sample is a real patch. engine_compare.py sets them beside lua5.4's `load` of the source.
package.path = "./?.lua;" .. package.path
local gen = require "gen_module"
local reload = require "hotlua.reload"

local function median(t) table.sort(t) return t[(#t + 1) // 2] end

local function time_us(f, reps)
  local samples = {}
  for r = 1, reps do
    collectgarbage()
    local t0 = os.clock()
    f(r)
    samples[r] = (os.clock() - t0) * 1e6
  end
  return median(samples)
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
package.path = dir .. "/?.lua;" .. package.path

print(("%-8s %12s %12s %12s"):format("N", "plan_us", "one_us", "all_us"))
for _, n in ipairs({ 10, 100, 1000, 10000 }) do
  local name = "engine_mod_" .. n
  local base = gen(n)
  local f = assert(io.open(dir .. "/" .. name .. ".lua", "w"))
  f:write(base)
  f:close()
  local m = require(name)
  -- one function changed: f0's body adds twice.
  local one = base:gsub("function M.f0%(x%) (s%d+) = (s%d+) %+ x", "function M.f0(x) %1 = %2 + x + x", 1)
  -- every function changed.
  local all = base:gsub("%+ x return", "- x return")
  local reps = n >= 10000 and 5 or (n >= 1000 and 21 or 101)
  local plan = time_us(function()
    local r = reload.plan({ [name] = one })
    assert(r.ok and #r.modules[name].changed == 1)
  end, reps)
  local versions = { one, base }
  local one_us = time_us(function(r)
    local ok, rep = reload.apply({ [name] = versions[r % 2 + 1] })
    assert(ok, rep.error)
  end, reps)
  versions = { all, base }
  local all_us = time_us(function(r)
    local ok, rep = reload.apply({ [name] = versions[r % 2 + 1] })
    assert(ok, rep.error)
  end, reps)
  assert(m.f1(0) ~= nil)
  print(("%-8d %12.1f %12.1f %12.1f"):format(n, plan, one_us, all_us))
  os.remove(dir .. "/" .. name .. ".lua")
end
os.execute("rmdir " .. dir)
