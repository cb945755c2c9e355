local co = setmetatable({}, {__index = function(t, k) error("deep " .. k) end})
local function f() return co.x end
print(pcall(f))
f()
