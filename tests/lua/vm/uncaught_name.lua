local t = setmetatable({}, {__name = "Point"})
print(pcall(function() return t < t end))
local x = t + 1
