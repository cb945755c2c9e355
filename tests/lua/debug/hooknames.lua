-- Names of hook frames (hook ?) and tracebacks from hooks, coroutines, metamethods and handlers.
local function f() return 1 end
debug.sethook(function(ev, line)
  local i = debug.getinfo(1, "nS")
  local j = debug.getinfo(2, "nSl")
  print(ev, line, i.name, i.namewhat, j.name, j.namewhat, j.currentline)
end, "crl")
f()
debug.sethook()
print(debug.traceback("x"))
local co = coroutine.wrap(function() print(debug.traceback("inco")) coroutine.yield() end)
co()
local t = setmetatable({}, {__index = function(t, k) print(debug.traceback("idx")) return 1 end})
local _ = t.x
print(pcall(error))
print(select('#', pcall(error)))
xpcall(function() local x = nil; x() end, function(m) print(debug.traceback(m)) end)
