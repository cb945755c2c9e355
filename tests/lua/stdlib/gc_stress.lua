-- Library natives holding values across calls into Lua survive collections triggered
-- inside those calls (comparators and metamethods that allocate a lot).
collectgarbage("setpause", 100)
local junk
local function churn() local t = {} for i = 1, 60 do t[i] = {i, tostring(i) .. "x"} end junk = t end

local items = {}
for i = 1, 300 do items[i] = {key = (i * 37) % 101, name = "item" .. i} end
table.sort(items, function(a, b) churn() return a.key < b.key or (a.key == b.key and a.name < b.name) end)
for i = 2, #items do assert(items[i - 1].key <= items[i].key) end
print(items[1].name, items[150].name, items[300].name)

-- strings created only inside the sorted table
local strs = {}
for i = 1, 200 do strs[i] = string.rep(string.char(65 + i % 26), 50) .. i end
table.sort(strs, function(a, b) churn() return a > b end)
print(strs[1]:sub(-4), strs[200]:sub(-4))

-- remove/insert through metamethods that allocate
local store = {}
local proxy = setmetatable({}, {
  __index = function(_, k) churn() return store[k] end,
  __newindex = function(_, k, v) churn() store[k] = v end,
  __len = function() churn() return #store end,
})
for i = 1, 100 do table.insert(proxy, {tostring(i)}) end
for i = 1, 30 do table.insert(proxy, 1, {"f" .. i}) end
local removed = {}
for i = 1, 40 do removed[#removed + 1] = table.remove(proxy, 1)[1] end
print(#store, table.concat(removed, ",", 1, 5), store[1][1], store[#store][1])
print(table.concat(table.move(proxy, 1, 5, 1, {}) and {store[1][1], store[5][1]}, " "))
local u = {table.unpack(proxy, 1, 3)}
print(u[1][1], u[3][1])

-- require with a loader that churns
package.preload.churny = function(name) churn() return {name = name .. "!"} end
print(require("churny").name)
collectgarbage()
print("gc_stress done")
