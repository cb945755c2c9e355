-- Random sequences of table.insert/remove/move/concat/unpack (fixed seed), printed step by
-- step: a differential test of the library over tables that grow, shrink and get holes.
local seed = 12345
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end
local t = {}
local out = {}
local function dump()
  local n = #t
  local parts = {}
  for i = 1, math.min(n, 12) do parts[i] = tostring(t[i]) end
  return n .. ":" .. table.concat(parts, ",")
end
for step = 1, 2500 do
  local op = rnd(10)
  local n = #t
  local ok, err
  if op < 4 then
    if rnd(2) == 0 then ok, err = pcall(table.insert, t, step)
    else ok, err = pcall(table.insert, t, rnd(n + 3), step) end
  elseif op < 7 then
    if rnd(2) == 0 then ok, err = pcall(table.remove, t)
    else ok, err = pcall(table.remove, t, rnd(n + 3)) end
  elseif op == 7 then
    local f = rnd(n + 2)
    local e, d = f + rnd(6) - 1, rnd(n + 4)
    ok, err = pcall(table.move, t, f, e, d)
    if ok then err = nil end
  elseif op == 8 then
    t[rnd(n + 2) + 1] = nil  -- make a hole
    ok = true
  else
    local i = rnd(n + 2)
    local j = i + rnd(8) - 2
    ok, err = pcall(function() return select("#", table.unpack(t, i, j)) .. "/" .. table.concat(t, ".", i, j) end)
  end
  if not ok or step % 50 == 0 or op == 9 then
    out[#out + 1] = step .. " " .. op .. " " .. tostring(ok) .. " " .. tostring(err) .. " " .. dump()
  end
end
print(table.concat(out, "\n"))
print("table_ops done")
