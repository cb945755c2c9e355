-- Where native silly.patch's reload time goes: medians (microseconds) of each step apart,
-- on hotlua only:   cd benches/reload && ../../target/release/hotlua split.lua [require]
-- Columns: collect(old), collect(new), join, the Lua replacement loop, and all four.
-- With `require`, each version is the module `require` loads from a temporary file (the
-- guide's reload: compiled as a module, recorded by the registry); otherwise `load`.
package.path = "./?.lua;" .. package.path
local gen = require "gen_module"
local patch = require "silly.patch"

local load_version = function(src) return load(src, "=mod")() end
if arg and arg[1] == "require" then
  local path = os.tmpname()
  local dir, name = path:match("^(.*)/([^/]+)$")
  package.path = dir .. "/?;" .. package.path
  os.remove(path)
  load_version = function(src)
    local f = assert(io.open(path, "w"))
    f:write(src)
    f:close()
    package.loaded[name] = nil
    local m = require(name)
    os.remove(path)
    return m
  end
end

local function median(t) table.sort(t) return t[(#t + 1) // 2] end

print(("%-8s %10s %10s %10s %10s %10s"):format("N", "coll_old", "coll_new", "join", "replace", "total"))
for _, n in ipairs({ 10, 100, 1000, 10000 }) do
  local src = gen(n)
  local old = load_version(src)
  local new
  local backup = {}
  for k, v in pairs(old) do backup[k] = v end
  local reps = n >= 10000 and 11 or (n >= 1000 and 51 or 201)
  local s = { {}, {}, {}, {}, {} }
  for r = 1, reps do
    -- Untimed, as in bench.lua: the old module as it was and a freshly loaded new version.
    for k, v in pairs(backup) do old[k] = v end
    new = load_version(src)
    collectgarbage() -- the untimed load's garbage is not collected inside the timed steps
    local t0 = os.clock()
    local P = patch.new()
    local up_old = P:collectupval(old)
    local t1 = os.clock()
    local up_new = P:collectupval(new)
    local t2 = os.clock()
    P:join(up_new, up_old)
    local t3 = os.clock()
    for k, v in pairs(new) do if type(v) == "function" then old[k] = v end end
    local t4 = os.clock()
    s[1][r], s[2][r], s[3][r], s[4][r], s[5][r] = t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0
  end
  local m = {}
  for i = 1, 5 do m[i] = median(s[i]) * 1e6 end
  print(("%-8d %10.1f %10.1f %10.1f %10.1f %10.1f"):format(n, m[1], m[2], m[3], m[4], m[5]))
end
