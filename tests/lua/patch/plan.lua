-- issue 13 item 3 "plan": a dry run compiles and matches, reports per module what a patch
-- would change, and changes nothing (the fingerprint of module tables, prototypes, cells
-- and values, package.loaded is identical before and after). A source that does not
-- compile, or a module that is not loaded, is reported.
local S = require "support"
local reload = require "hotlua.reload"
S.install("mods/shop_v1.lua", "shop.lua")
local M = require "shop"
print(M.sell(10))
S.install("mods/shop_v2.lua", "shop.lua")
local before = S.fingerprint({"shop"})
local report = reload.plan({"shop"})
S.eq(S.fingerprint({"shop"}), before, "plan changed something")
local m = report.modules.shop
print("ok", report.ok, m.from, m.to)
print("changed", S.join(m.changed))
print("added", S.join(m.added))
print("removed", S.join(m.removed))
print("unchanged", S.join(m.unchanged))
print("kept", S.join(m.upvalues.kept))
print("new", S.join(m.upvalues.new))
print("dropped", S.join(m.upvalues.dropped))
print("type_changed", S.join(m.upvalues.type_changed))
print("closures", m.closures, #m.frames)
print(M.sell(1), M.refund)
before = S.fingerprint({"shop"})
local bad = reload.plan({shop = "function M.x( end"})
print("compile", bad.ok, bad.step, bad.error)
local missing = reload.plan({"nosuchmodule"})
print("missing", missing.ok, missing.step, (missing.error:gsub("\n.*", "")))
local unloaded = reload.plan({other = "return {}"})
print("unloaded", unloaded.ok, unloaded.step, unloaded.error)
local ok, strict = reload.apply({"shop"}, {strict = true})
print("strict", ok, strict.step, strict.error, S.join(strict.modules.shop.upvalues.type_changed))
S.eq(S.fingerprint({"shop"}), before, "a refused patch changed something")
