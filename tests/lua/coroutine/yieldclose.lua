-- Yields inside __close at block exits (CLOSE), returns with fixed result counts and
-- generic-for exits, several pending variables, as Lua 5.4 allows.
local function closer(name, y)
  return setmetatable({}, {__close = function(_, e)
    print("closing", name, e)
    if y then print("resumed with", coroutine.yield("from close " .. name)) end
  end})
end
local co = coroutine.wrap(function()
  do
    local a <close> = closer("a", true)
    local b <close> = closer("b", true)
    local c <close> = closer("c", false)
    print("body")
  end
  print("after block")
  local function f()
    local x <close> = closer("x", true)
    return 1, 2, 3
  end
  print("f returned", f())
  local function g()
    local y <close> = closer("y", true)
  end
  g()
  local function h()
    local z <close> = closer("z", true)
    return "h"
  end
  print(h())
  for i in function(s, c) if c < 2 then return c + 1 end end, nil, 0, closer("for", true) do
    if i == 1 then break end
  end
  local ok, e = pcall(function()
    local w <close> = closer("w", false)
    error("err", 0)
  end)
  print("pcall", ok, e)
  -- an error raised by a __close after it yielded propagates from the block exit
  print(pcall(function()
    do local q <close> = setmetatable({}, {__close = function() coroutine.yield("q") error("qerr", 0) end}) end
  end))
  -- tracebacks name the __close frame
  do local tb <close> = setmetatable({}, {__close = function() print(debug.traceback("in close", 1)) end}) end
  return "done"
end)
local v = co()
while v ~= "done" do print("yielded", v); v = co("R") end
print(v)
