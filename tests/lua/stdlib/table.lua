-- table library: results, metamethod-aware access and errors as lua5.4.
local function perr(f, ...) print(pcall(f, ...)) end
local function dump(t, n) local o = {} for i = 1, (n or #t) do o[i] = tostring(t[i]) end return table.concat(o, ",") end

-- insert
local t = {}
table.insert(t, "a"); table.insert(t, 1, "b"); table.insert(t, 3, "c"); table.insert(t, 2, "d")
print(dump(t))
perr(table.insert, {}, 1, 2, 3)
perr(table.insert, {})
perr(table.insert, {}, 5, 2)
perr(table.insert, {}, 0, 2)
perr(table.insert, {}, 1.5, 2)
perr(table.insert, nil, 2)
perr(table.insert, {1, 2}, -1, 0)

-- remove (5.4 edge rules)
t = {1, 2, 3}
print(table.remove(t), dump(t), table.remove(t, 1), dump(t))
print(table.remove({}), table.remove({}, 0), table.remove({}, 1))
local z = {[0] = "z"}
print(table.remove(z, 0), z[0])
t = {1, 2, 3}
print(table.remove(t, 4), dump(t))
perr(table.remove, {1, 2}, 5)
perr(table.remove, {1, 2, 3}, -1)
perr(table.remove, {}, -1)
perr(table.remove, {}, 2)
perr(table.remove, nil)

-- concat
print(table.concat({1, 2.5, "x"}, "-"), table.concat({}, "x"), table.concat({1, 2, 3}, "", 3, 2))
print(table.concat({1, 2, 3}, ", ", 2), table.concat({1, 2, 3}, ", ", 2, 3), table.concat({"a", "b"}))
print(table.concat({2^63, -0.0, 1e100, math.mininteger}, " "))
perr(table.concat, {1, {}})
perr(table.concat, {1, 2, 3}, ", ", 2, 5)
perr(table.concat, {}, {})
perr(table.concat, nil)

-- pack / unpack
local p = table.pack()
print(p.n, #p)
p = table.pack(nil, 2, nil)
print(p.n, p[2], p[3])
print(table.unpack({1, 2, 3}))
print(table.unpack({1, 2, 3}, 2))
print(table.unpack({1, 2, 3}, 2, 3))
print(table.unpack({1, 2, 3}, -1, 1))
print(select("#", table.unpack({1, nil, 3})))
print(select("#", table.unpack({}, 1, 0)), select("#", table.unpack({}, 5, 7)))
perr(table.unpack, {}, 1, 1e8)
perr(table.unpack, {}, math.mininteger, math.maxinteger)
perr(table.unpack, nil)

-- move
local a = {1, 2, 3, 4, 5}
print(dump(table.move(a, 2, 4, 1)))
a = {1, 2, 3, 4, 5}
print(dump(table.move(a, 1, 3, 3)))
local b = table.move({1, 2, 3}, 1, 3, 2, {})
print(b[1], b[2], b[3], b[4])
print(dump(table.move({1, 2}, 1, 0, 5)))
perr(table.move, {}, 1, math.maxinteger, 2)
perr(table.move, {1, 2}, -1, 1, math.maxinteger)
perr(table.move, {}, math.mininteger, 1, 1)
perr(table.move)
perr(table.move, {}, 1, 2, 3, 4)

-- metamethods (__index/__newindex/__len) as 5.4's lua_geti/lua_seti/luaL_len
local proxy = setmetatable({}, {__index = function(_, k) return k * 10 end, __len = function() return 3 end})
print(table.concat(proxy, ","), table.unpack(proxy))
local log = {}
local w = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k .. "=" .. tostring(v); rawset(t, k, v) end})
table.insert(w, "a"); table.insert(w, 1, "b")
print(table.concat(log, " "), w[1], w[2])
local ud = setmetatable({}, {__len = function() return 2 end, __index = function(_, i) return i end})
print(table.concat(ud, "+"))
perr(table.sort, setmetatable({}, {__len = function() return 2^40 end}))
perr(table.insert, setmetatable({}, {__len = function() return 1.5 end}), 1)

-- sort
local s = {5, 3, 8, 1, 9, 2, 7, 4, 6, 0}
table.sort(s) print(dump(s))
table.sort(s, function(x, y) return x > y end) print(dump(s))
local words = {"pear", "apple", "fig", "banana", "cherry"}
table.sort(words) print(table.concat(words, " "))
table.sort(words, function(x, y) return #x < #y or (#x == #y and x < y) end) print(table.concat(words, " "))
local big = {}
for i = 1, 500 do big[i] = (i * 7919) % 1009 end
table.sort(big)
for i = 2, #big do assert(big[i - 1] <= big[i]) end
print(big[1], big[250], big[500])
local sorted = {} for i = 1, 300 do sorted[i] = i end
table.sort(sorted, function(x, y) return x > y end) print(sorted[1], sorted[300])
perr(table.sort, {3, 1, 2, 5, 4, 7, 6, 9, 8, 10, 12, 11}, function(x, y) return true end)
perr(table.sort, {1, "x"})
perr(table.sort, {3, 2, 1}, {})
perr(table.sort, {1, 2, 3}, 1)
-- an inconsistent comparator never loops forever nor crashes
for seed = 1, 20 do
  local r = {}
  for i = 1, 60 do r[i] = (i * seed * 31) % 17 end
  local ok = pcall(table.sort, r, function(x, y) return (x + y) % 3 == 0 end)
  assert(#r == 60)
end
local objs = {}
for i = 1, 10 do objs[i] = setmetatable({v = (i * 3) % 10}, {__lt = function(x, y) return x.v < y.v end}) end
table.sort(objs)
local vs = {} for i = 1, 10 do vs[i] = objs[i].v end print(table.concat(vs, ","))
table.sort({}) table.sort({1})
print("table done")
