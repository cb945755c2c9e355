-- table.sort follows 5.4's algorithm, so even the order of equal keys matches lua5.4
-- (for intervals where 5.4 does not randomize its pivot).
local function lcg(seed)
  local s = seed
  return function(n) s = (s * 1103515245 + 12345) % 2147483648 return s % n end
end
for _, n in ipairs({2, 3, 4, 5, 7, 10, 31, 64, 99, 100, 101, 150, 400}) do
  local r = lcg(n)
  local recs = {}
  for i = 1, n do recs[i] = {k = r(7), id = i} end
  table.sort(recs, function(a, b) return a.k < b.k end)
  local ids = {}
  for i = 1, n do ids[i] = recs[i].id end
  print(n, table.concat(ids, " "))
end
-- many equal elements and already sorted / reversed inputs
local t = {}
for i = 1, 1000 do t[i] = i % 3 end
table.sort(t)
print(t[1], t[334], t[335], t[1000])
for i = 1, 1000 do t[i] = 1001 - i end
table.sort(t)
print(t[1], t[500], t[1000])
table.sort(t, function(a, b) return a > b end)
print(t[1], t[500], t[1000])
-- comparator errors propagate; sort of strings and mixed numbers
print(pcall(table.sort, {3, 2, 1}, function(a, b) error("boom") end))
local m = {3, 1.5, -2, 2^53, math.mininteger, 0.0, -0.5}
table.sort(m)
for i = 1, #m do m[i] = tostring(m[i]) end
print(table.concat(m, " "))
print("sort done")
