-- __close methods that yield while an error unwinds into a pcall (inside a coroutine):
-- each gets the current error, a new error from one replaces it for the next, and the
-- pcall returns false with the last error once all are closed.
local function func2close(f) return setmetatable({}, {__close = f}) end
local co = coroutine.wrap(function ()
  local function foo (err)
    local z <close> = func2close(function(_, msg)
      print("z got", msg)
      coroutine.yield("z")
      return 100, 200
    end)
    local y <close> = func2close(function(_, msg)
      print("y got", msg)
      coroutine.yield("y")
      if err then error(err + 20) end
    end)
    local x <close> = func2close(function(_, msg)
      print("x got", msg)
      coroutine.yield("x")
      return 100, 200
    end)
    if err == 10 then error(err) else return 10, 20 end
  end
  coroutine.yield(pcall(foo, nil))
  coroutine.yield(pcall(foo, 1))
  return pcall(foo, 10)
end)
for i = 1, 12 do print(i, co()) end
print("close_after_error done")
