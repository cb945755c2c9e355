-- String building: concatenation, tostring, table.concat, string.format, interning.
local n = tonumber(arg and arg[1]) or 600000
local parts = {}
for i = 1, n do
  parts[#parts + 1] = "item" .. i .. ":" .. (i * 3) % 7
end
local s = table.concat(parts, ",")
local total = 0
for i = 1, n, 97 do
  local key = "k" .. (i % 1000)
  total = total + #key + #string.format("%d-%s", i, key)
end
local acc = ""
for i = 1, 2000 do acc = acc .. tostring(i % 10) end
print(#s, total, #acc, s:sub(1, 30))
