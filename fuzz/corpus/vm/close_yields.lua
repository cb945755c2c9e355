-- To-be-closed variables whose __close yields while a function returns: with a variable
-- result count (`return f()`), with a native closing method (`coroutine.yield` itself),
-- and the return hook of a function comes after its __close calls.
local function func2close(f) return setmetatable({}, {__close = f}) end
local trace = {}
local co = coroutine.wrap(function()
  local x <close> = func2close(function()
    trace[#trace + 1] = "x1"
    coroutine.yield("x")
    trace[#trace + 1] = "x2"
  end)
  return pcall(function()
    local y <close> = func2close(function()
      trace[#trace + 1] = "y1"
      coroutine.yield("y")
      trace[#trace + 1] = "y2"
    end)
    return 10, 20, 30
  end)
end)
print(co(), co(), co())
local function join(t) local s = "" for i = 1, #t do s = s .. (i > 1 and " " or "") .. t[i] end return s end
print(join(trace))

local extra
local co2 = coroutine.wrap(function()
  local x <close> = func2close(coroutine.yield)
  local e <close> = func2close(function(self) coroutine.yield(100) end)
  extra = e
  return select(1, 10, "mid", 30)
end)
print(co2())
local a, b = co2()
print(a == extra, b)
print(co2())

local events = {}
local function hook(ev) events[#events + 1] = ev .. " " .. tostring(debug.getinfo(2, "n").name) end
local function foo(...)
  local x <close> = func2close(function() events[#events + 1] = "x" end)
  local y <close> = func2close(function() debug.sethook(hook, "r") end)
  return ...
end
local t = {foo(1, 2, 3)}
debug.sethook()
print(#t, join(events))
print("close_yields done")
