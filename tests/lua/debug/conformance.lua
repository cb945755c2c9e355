-- Debug information as lua5.4 gives it: line events, transfer info in call/return hooks,
-- finalizer names, upvalues of C closures.

local function trace(s)
  local l = {}
  debug.sethook(function (e, line) l[#l+1] = line end, "l"); load(s)(); debug.sethook()
  return table.concat(l, ",")
end

-- an if/elseif condition is tested on the line of 'then'
print(trace("if\nmath.sin(1)\nthen\n  a=1\nelse\n  a=2\nend\n"))
print(trace("while math.sin(1) do\n  if math.sin(1)\n  then break\n  end\nend\na=1"))
print(trace("local x = 0\nif x >\n1\nthen x = 1\nelseif\nx < 1\nthen x = 2 end"))
-- the first operand of a binary operator is fetched on the operator's line
for _, i in ipairs{1, 10, 300} do
  print(i, trace("local b = {10}\na = b[1]" .. string.rep("\n", i) .. " + \n\nb[1]\nb = 4\n"))
end
print(trace("local t = {x = 'q'}\nlocal s = t.x\n..\n'a'"))

-- a line hook set by a call hook sees the first line of a vararg function
local function f (...) local c = 13 end
local seen
debug.sethook(function ()
  debug.sethook(function (e, l) seen = l; debug.sethook() end, "l")
end, "c")
f(1, 2)
print("first line", seen)

-- ftransfer/ntransfer name the values passed in and out
local on, log = false, {}
debug.sethook(function (event)
  if not on then return end
  local ar = debug.getinfo(2, "rS")
  local t = {}
  for i = ar.ftransfer, ar.ftransfer + ar.ntransfer - 1 do
    t[#t + 1] = tostring(select(2, debug.getlocal(2, i)))
  end
  log[#log + 1] = string.format("%s %s %d %d {%s}", event, ar.what, ar.ftransfer,
                                ar.ntransfer, table.concat(t, ","))
end, "cr")
on = true; math.abs(-3); on = false
on = true; select(2, 10, 20, 30, 40); on = false
local function foo (a, ...) return ... end
local function foo1 () on = not on; return foo(20, 10, 0) end
foo1(); on = false
local function g (a, b) local c = a + b; return c, a end
on = true; g(1, 2); on = false
debug.sethook()
for _, l in ipairs(log) do print(l) end
print(debug.getinfo(1, "r").ftransfer, debug.getinfo(1, "r").ntransfer)

-- a finalizer runs as the metamethod __gc
local what, name
setmetatable({}, {__gc = function ()
  local t = debug.getinfo(1, "n"); what, name = t.namewhat, t.name
end})
collectgarbage()
print(what, name)

-- gmatch iterators are C closures with three upvalues named ""
local it = string.gmatch("key=val", "(%w+)=(%w+)")
print(debug.getinfo(it, "S").what, debug.getinfo(it, "u").nups)
print(debug.getupvalue(it, 1))
print(debug.getupvalue(it, 2))
print(it())
print(pcall(string.gmatch("a", "(")))
print(trace("local x = 0\nif x then x = 1\nelseif\nx\nthen x = 2 end"))
