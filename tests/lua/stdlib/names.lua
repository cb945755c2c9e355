-- Every global and library field of lua5.4, with its type.
local skip = {}
local names = {}
for k, v in pairs(_G) do
  if not skip[k] then
    names[#names + 1] = k .. ":" .. type(v)
    if type(v) == "table" and k ~= "_G" then
      for k2, v2 in pairs(v) do
        if type(k2) == "string" then names[#names + 1] = k .. "." .. k2 .. ":" .. type(v2) end
      end
    end
  end
end
table.sort(names)
for _, n in ipairs(names) do print(n) end
print("names done")
