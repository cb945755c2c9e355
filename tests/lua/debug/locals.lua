-- getlocal/setlocal (levels, varargs, temporaries, function parameters, threads),
-- getupvalue/setupvalue, upvalueid/upvaluejoin, metatables, registry, user values.
local function f(a, b, ...)
  local c = a + b
  local names = {}
  for i = 1, 10 do
    local n, v = debug.getlocal(1, i)
    if not n then break end
    names[#names + 1] = n .. "=" .. (type(v) == "table" and "tbl" or tostring(v))
  end
  for i = -1, -5, -1 do
    local n, v = debug.getlocal(1, i)
    if not n then break end
    names[#names + 1] = n .. "=" .. (type(v) == "table" and "tbl" or tostring(v))
  end
  local s = ""
  for i = 1, #names do s = s .. names[i] .. " " end
  return s
end
print(f(1, 2, "x", "y"))
print(f(1, 2))
print(debug.getlocal(f, 1), debug.getlocal(f, 2), debug.getlocal(f, 3), debug.getlocal(print, 1))
print(pcall(debug.getlocal, 50, 1))
print(pcall(debug.getlocal, 1))

local function g()
  local x = 10
  local function inner()
    print("setlocal", debug.setlocal(2, 1, 42), debug.setlocal(2, 5, 0))
  end
  inner()
  return x
end
print(g())

-- C frames have (C temporary) slots
local function viapcall()
  return pcall(function()
    local n, v = debug.getlocal(2, 1)
    return n, v
  end)
end
print(select("#", viapcall()))

-- locals of a suspended coroutine
local co = coroutine.create(function(p, ...)
  local q = p * 2
  coroutine.yield()
end)
coroutine.resume(co, 5, "va")
print(debug.getlocal(co, 1, 1), debug.getlocal(co, 1, 2), debug.getlocal(co, 1, -1))
print(debug.setlocal(co, 1, 2, 99), debug.getlocal(co, 1, 2))
print(pcall(debug.getlocal, co, 5, 1))

-- upvalues
local u1, u2 = 1, "two"
local function h() return u1, u2, print end
print(debug.getupvalue(h, 1), debug.getupvalue(h, 2), (debug.getupvalue(h, 3)))
print(debug.getupvalue(h, 4), debug.getupvalue(h, 0))
print(debug.setupvalue(h, 1, 100), u1)
print(debug.setupvalue(h, 9, 100))
local chunk = load("return x")
print(debug.getupvalue(chunk, 1) , debug.getupvalue(print, 1))
print(pcall(debug.getupvalue, 1, 1))
print(pcall(debug.setupvalue, h, 1))
local w = coroutine.wrap(function() end)
print(debug.getupvalue(w, 1), select("#", debug.getupvalue(w, 1)))

-- upvalueid / upvaluejoin
local function h2() return u1 end
local function h3() return u2 end
print(debug.upvalueid(h, 1) == debug.upvalueid(h2, 1), debug.upvalueid(h, 1) == debug.upvalueid(h3, 1))
print(type(debug.upvalueid(h, 1)), debug.upvalueid(h, 5), type(debug.upvalueid(w, 1)))
print(pcall(debug.upvalueid, h, "x"))
debug.upvaluejoin(h2, 1, h3, 1)
print(h2(), debug.upvalueid(h2, 1) == debug.upvalueid(h3, 1))
print(pcall(debug.upvaluejoin, h2, 2, h3, 1))
print(pcall(debug.upvaluejoin, h2, 1, h3, 3))
print(pcall(debug.upvaluejoin, w, 1, h3, 1))
print(pcall(debug.upvaluejoin, h2, 1, w, 1))

-- metatables and registry
print(debug.getmetatable(1), debug.getmetatable("x") ~= nil)
local mt = {__index = function(_, k) return k * 2 end}
print(debug.setmetatable(5, mt), (7)[3])
debug.setmetatable(5, nil)
print(pcall(function() return (7)[3] end))
print(pcall(debug.setmetatable, 1, 2))
local prot = setmetatable({}, {__metatable = "locked"})
print(getmetatable(prot), type(debug.getmetatable(prot)))
print(type(debug.getregistry()), debug.getregistry()._LOADED ~= nil)
print(debug.getuservalue(1), debug.getuservalue({}, 2))
print(pcall(debug.setuservalue, {}, 1))
