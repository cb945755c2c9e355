-- issue 13 item 1: two versions are matched by declaration identity. Reordering unrelated
-- code matches everything else (moved, not changed); a renamed function is reported removed
-- and added, never joined to another; anonymous functions are matched by their ordinal
-- within their parent.
local S = require "support"
local reload = require "hotlua.reload"
S.install("mods/ident_v1.lua", "ident.lua")
local M = require "ident"
local first, second = M.list[1], M.list[2]
S.install("mods/ident_v2.lua", "ident.lua")
local m = reload.plan({"ident"}).modules.ident
print("changed", S.join(m.changed))
print("moved", S.join(m.moved))
print("added", S.join(m.added))
print("removed", S.join(m.removed))
print("unchanged", S.join(m.unchanged))
local ok = reload.apply({"ident"})
print(ok, M.a, M.a2(), first(), second())
