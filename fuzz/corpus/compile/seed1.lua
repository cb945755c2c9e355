local t = setmetatable({}, {__index = function(t, k) return k * 2 end})
print(t[21])
for i = 1, 3 do goto skip; ::skip:: end
local x <close> = nil
print(("abc"):gsub("%w", "%0%0"))
