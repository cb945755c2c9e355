-- silly.patch's snapshot is unreachable from Lua: clearing user values of what a script can
-- reach does not unroot the closures the tree hands out (repro/reliability/01).
local patch = require "silly.patch"
local P = patch.new()
local function make()
  local state = setmetatable({"STATE"}, {__gc = function() end})
  local function inner() return state[1] end
  return {handle = function() return inner() end}
end
local mod = make()
local tree = P:collectupval(mod)
local ud = getmetatable(tree).__snap
local cleared = 0
for i = 1, 4 do if debug.setuservalue(ud, nil, i) then cleared = cleared + 1 end end
print("user values cleared:", cleared)
mod = nil
for _ = 1, 3 do collectgarbage() end
local junk = {}
for k = 1, 20000 do junk[k] = {k, k + 1} end
for name, info in pairs(tree) do
  for n2, i2 in pairs(info.upvals) do
    print(name, n2, i2.utype, (pcall(i2.val)), i2.val())
  end
end
