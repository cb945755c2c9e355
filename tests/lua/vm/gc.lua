-- Collection of cycles and finalizers.
collectgarbage()
local before = collectgarbage("count")
do
  for i = 1, 20000 do
    local a, b = {}, {}
    a.other, b.other = b, a
    a.self = a
  end
end
collectgarbage()
local after = collectgarbage("count")
print(type(before), after - before < 100)
local finalized = {}
do
  local x = setmetatable({name = "x"}, {__gc = function(o) finalized[#finalized + 1] = o.name end})
  local y = setmetatable({name = "y"}, {__gc = function(o) finalized[#finalized + 1] = o.name end})
  x.peer = y
  y.peer = x
end
collectgarbage()
collectgarbage()
table_sort_free = nil
print(#finalized, (finalized[1] == "y" and finalized[2] == "x") or (finalized[1] == "x" and finalized[2] == "y"))
local weak = setmetatable({}, {__mode = "k"})
weak[{}] = 1
local keep = {}
weak[keep] = 2
collectgarbage()
local n = 0
for k, v in pairs(weak) do n = n + 1 end
print(n, weak[keep])
-- a finalizer error becomes a warning, not an error
setmetatable({}, {__gc = function() error("in gc") end})
collectgarbage()
print(collectgarbage("isrunning"), collectgarbage("incremental"), collectgarbage("generational"))
-- closures and upvalues survive collections while referenced
local function mk() local v = {1, 2, 3} return function() return #v end end
local f = mk()
collectgarbage()
print(f())
local s = ""
for i = 1, 2000 do s = s .. "x" end
collectgarbage()
print(#s)
print("ok")
