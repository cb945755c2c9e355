-- Calls: tail calls in constant space, varargs, multiple results.
local function loop(n) if n == 0 then return "done" end return loop(n - 1) end
print(loop(10000000))
local function count(n, acc) if n == 0 then return acc end return count(n - 1, acc + 1) end
print(count(1000000, 0))
local function va(...) return select("#", ...), ... end
print(va())
print(va(nil, nil))
print(va(1, nil, 3))
local function first(...) local a, b = ... return a, b end
print(first(1), first(1, 2, 3))
local function mr() return 1, 2, 3 end
print(mr())
print(mr(), "x")
print((mr()))
local t = {mr(), mr()}
print(#t, t[1], t[2], t[4])
local t2 = {mr(), (mr())}
print(#t2)
print(select(2, "a", "b", "c"), select(-1, "a", "b", "c"))
print(pcall(select, 0, "a"))
print(pcall(select, "x"))
print(select("#"), select("#", nil), select(-2, 1, 2, 3))
local function packn(...) return {n = select("#", ...), ...} end
local p = packn(1, nil, nil)
print(p.n, p[1], p[2], p[3])
local function tail_native(...) return select("#", ...) end
local function tn(...) return tail_native(...) end
print(tn(1, 2, 3, nil))
local function varmid(a, ...) local b, c = ... return a, b, c, select("#", ...) end
print(varmid(1), varmid(1, 2), varmid(1, 2, 3, 4))
local big = {}
for i = 1, 250 do big[i] = i end
local function sum(...) local s = 0 for i = 1, select("#", ...) do s = s + (select(i, ...)) end return s end
print(sum(1, 2, 3))
local function deep(n) if n == 0 then return 0 end return 1 + deep(n - 1) end
print(deep(10000))
-- method calls
local obj = {v = 5}
function obj:get(x) return self.v + (x or 0) end
print(obj:get(), obj:get(1), obj.get(obj, 2))
-- calling through __call as a method
local callable = setmetatable({}, {__call = function(self, a) return a end})
obj.c = callable
print(obj:c() == obj)
print(pcall(function() local x; x() end))
print(pcall(function() undefinedglobal() end))
print(pcall(function() local t = {} t.field.sub() end))
print(pcall(function() local t = {} t:method() end))
print(pcall(function() local s = "x"; s() end))
print("ok")
