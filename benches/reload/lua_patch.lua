-- A Lua-level hot patch over the debug library, the way silly's patch.lua works: collect
-- each function's upvalues with debug.getupvalue, recurse into function upvalues, and join
-- the new functions' upvalues to the old cells with debug.upvaluejoin. Used as the baseline
-- that hotlua's native silly.patch is measured against (bench.lua, benches/reload.rs).
local getupvalue, upvalueid, upvaluejoin = debug.getupvalue, debug.upvalueid, debug.upvaluejoin

local lua_patch = {}

local function collect_fn(f, cache)
  local ups = cache[f]
  if ups then return ups end
  ups = {}
  cache[f] = ups
  local i = 1
  while true do
    local name, val = getupvalue(f, i)
    if not name then break end
    local info = { idx = i, utype = type(val), val = val, upid = upvalueid(f, i) }
    if type(val) == "function" then
      info.upvals = collect_fn(val, cache)
    end
    ups[name] = info
    i = i + 1
  end
  return ups
end

function lua_patch.collect(module)
  local cache, tree = {}, {}
  for name, fn in pairs(module) do
    if type(fn) == "function" then
      tree[name] = { val = fn, upvals = collect_fn(fn, cache) }
    end
  end
  return tree
end

local function join_fn(fnew, unew, fold, uold, path, absent, visited)
  if visited[fnew] then return end
  visited[fnew] = true
  for name, ninfo in pairs(unew) do
    local oinfo = uold[name]
    if not oinfo then
      absent[#absent + 1] = path .. "." .. name
    elseif ninfo.utype == "function" then
      if oinfo.utype == "function" then
        join_fn(ninfo.val, ninfo.upvals, oinfo.val, oinfo.upvals, path .. "." .. name, absent, visited)
      end
    else
      upvaluejoin(fnew, ninfo.idx, fold, oinfo.idx)
    end
  end
end

function lua_patch.join(up_new, up_old)
  local absent, visited = {}, {}
  for name, n in pairs(up_new) do
    local o = up_old[name]
    if o then
      join_fn(n.val, n.upvals, o.val, o.upvals, "$." .. name, absent, visited)
    end
  end
  return absent
end

return lua_patch
