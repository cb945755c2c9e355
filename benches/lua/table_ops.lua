-- Table operations: array appends, hash inserts and lookups, removals, traversal.
local n = tonumber(arg and arg[1]) or 300000
local arr = {}
for i = 1, n do arr[i] = i * 2 end
local hash = {}
for i = 1, n do hash["key" .. (i % 5000)] = i end
local sum = 0
for i = 1, n do sum = sum + arr[i] end
for _, v in pairs(hash) do sum = sum + v end
for i, v in ipairs(arr) do if i % 1000 == 0 then sum = sum + v end end
local t = {}
for i = 1, 100000 do t[#t + 1] = i end
for _ = 1, 50000 do table.remove(t) end
for i = 1, 1000 do table.insert(t, 1, i) end
local mixed = {}
for i = 1, n do mixed[i % 1000 + 0.5] = i end
local count = 0
for _ in pairs(mixed) do count = count + 1 end
print(sum, #t, count)
