-- Method calls through metatables: __index chains, self, small objects.
local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({ x = x, y = y }, Point) end
function Point:add(o) return Point.new(self.x + o.x, self.y + o.y) end
function Point:len2() return self.x * self.x + self.y * self.y end

local Point3 = setmetatable({}, { __index = Point })
Point3.__index = Point3
function Point3.new(x, y, z)
  local p = Point.new(x, y); p.z = z
  return setmetatable(p, Point3)
end
function Point3:len2() return Point.len2(self) + self.z * self.z end

local n = tonumber(arg and arg[1]) or 3000000
local acc = Point.new(0, 0)
local one = Point.new(1, 2)
local sum = 0
for i = 1, n do
  acc = acc:add(one)
  sum = sum + acc:len2() % 7
end
local p3 = Point3.new(1, 2, 3)
for _ = 1, n do sum = sum + p3:len2() end
print(acc.x, acc.y, sum)
