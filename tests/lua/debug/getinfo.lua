-- debug.getinfo fields for Lua functions, natives, the main chunk, levels and threads.
local function show(t, keys)
  local out = {}
  for i = 1, #keys do
    local k = keys[i]
    out[#out + 1] = k .. "=" .. tostring(t[k])
  end
  local s = ""
  for i = 1, #out do s = s .. (i > 1 and " " or "") .. out[i] end
  print(s)
end
local S = {"source", "short_src", "what", "linedefined", "lastlinedefined"}
local U = {"nups", "nparams", "isvararg"}

local up1, up2 = 1, 2
local function lf(a, b, ...)
  return up1 + up2
end
show(debug.getinfo(lf, "S"), S)
show(debug.getinfo(lf, "u"), U)
show(debug.getinfo(print, "S"), S)
show(debug.getinfo(print, "u"), U)
show(debug.getinfo(1, "S"), S)
show(debug.getinfo(1, "l"), {"currentline"})
show(debug.getinfo(lf, "l"), {"currentline"})
print(debug.getinfo(lf, "f").func == lf, debug.getinfo(1, "f").func ~= nil)
print(debug.getinfo(100), debug.getinfo(lf).namewhat)

local function who()
  local i = debug.getinfo(2, "n")
  return tostring(i.name) .. "/" .. i.namewhat
end
function glob() local r = who() return r end
local t = {m = function(self) local r = who() return r end, f = function() return (who()) end}
print(glob(), t:m(), t.f(), (function() return who() end)())
local obj = setmetatable({}, {__index = function(t, k) return who() .. k end, __add = function() local r = who() return r end})
print(obj.x, obj + 1)
for k in function(s, c) if not c then return who() end end do print(k) end
local function caller() local r = who() return r end
print(caller())
print(debug.getinfo(1, "n").namewhat)

-- levels: getinfo itself is level 0
local function lev()
  local i0 = debug.getinfo(0, "nS")
  local i1 = debug.getinfo(1, "nSl")
  return i0.what .. " " .. tostring(i0.name) .. " | " .. i1.what .. " " .. i1.name .. " " .. i1.currentline
end
print(lev())
print(pcall(lev))
print(select(2, pcall(function() return debug.getinfo(2, "n").name end)))

-- tail calls
local function tc() return debug.getinfo(1, "t").istailcall end
local function calls_tc() return tc() end
print(calls_tc(), (tc()))

-- activelines
local function al(x)
  local y = x
  return y
end
local lines = debug.getinfo(al, "L").activelines
local ks = {}
for k in pairs(lines) do ks[#ks + 1] = k end
table_sort = nil
local s = 0
for i = 1, #ks do s = s + ks[i] end
print(#ks, s, debug.getinfo(print, "L").activelines)
local va = function(...)
  return ...
end
local n = 0
for k in pairs(debug.getinfo(va, "L").activelines) do n = n + 1 end
print("vararg activelines", n)

-- options and errors
print(pcall(debug.getinfo, 1, ">S"))
print(pcall(debug.getinfo, 1, "X"))
print(pcall(debug.getinfo, {}))
print(pcall(debug.getinfo))

-- another thread
local co = coroutine.create(function(x)
  local y = x + 1
  coroutine.yield(y)
end)
coroutine.resume(co, 1)
local i0 = debug.getinfo(co, 0, "Sln")
local i1 = debug.getinfo(co, 1, "Sl")
print(i0.what, i0.currentline, i1.what, i1.currentline, i1.linedefined)
print(debug.getinfo(co, 2))
print(debug.traceback(co))
print(debug.traceback(co, "msg"))
print(debug.traceback(co, "msg", 1))
print(debug.traceback("hello", 1))
print(debug.traceback({}) ~= nil, type(debug.traceback({})))
print(debug.traceback(12))
print(debug.traceback(nil))
local co2 = coroutine.create(function() local x = nil; return x.y end)
print(coroutine.resume(co2))
print(debug.traceback(co2))
print(debug.traceback(co2, nil, 1))
