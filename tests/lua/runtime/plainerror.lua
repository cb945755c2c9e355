local t = {}
local function g(x)
  return x.field.deeper
end
print("start")
g(t)
