-- coroutine.close with pending to-be-closed variables, errors in __close, dead coroutines,
-- wrap closing a coroutine that died, and <close> variables inside coroutines.
local function closer(name, fail)
  return setmetatable({}, {__close = function(_, err)
    print("close", name, err)
    if fail then error(fail, 0) end
  end})
end

local co = coroutine.create(function()
  local a <close> = closer("a")
  local b <close> = closer("b")
  coroutine.yield(1)
  print("not reached")
end)
print(coroutine.resume(co))
print(coroutine.close(co))
print(coroutine.status(co), coroutine.resume(co))
print(coroutine.close(co))

-- an error in __close while closing a suspended coroutine
local co2 = coroutine.create(function()
  local a <close> = closer("a2")
  local b <close> = closer("b2", "b2 failed")
  coroutine.yield()
end)
coroutine.resume(co2)
print(coroutine.close(co2))
print(coroutine.status(co2))

-- dead by error: close reports the error, runs the pending closes with it
local co3 = coroutine.create(function()
  local a <close> = closer("a3")
  error("boom", 0)
end)
print(coroutine.resume(co3))
print(coroutine.status(co3))
print(coroutine.close(co3))
print(coroutine.close(co3))

-- wrap: a dying coroutine is closed before its error is re-raised
local w = coroutine.wrap(function()
  local a <close> = closer("aw")
  coroutine.yield("first")
  error("wrapped", 0)
end)
print(w())
print(pcall(w))

-- a __close that replaces the error in a wrapped coroutine
local w2 = coroutine.wrap(function()
  local a <close> = closer("aw2", "replaced")
  error("original", 0)
end)
print(pcall(w2))

-- closes run normally at scope exit inside a coroutine, across yields
local co4 = coroutine.wrap(function()
  do
    local x <close> = closer("x4")
    coroutine.yield("inside")
  end
  coroutine.yield("after")
  return "done"
end)
print(co4()) print(co4()) print(co4())

-- closing a never-started coroutine
local co5 = coroutine.create(function() print("never") end)
print(coroutine.close(co5), coroutine.status(co5))

-- close from a generic for that is broken out of
local function iter()
  return coroutine.wrap(function() for i = 1, 10 do coroutine.yield(i) end end), nil, nil, closer("for")
end
for i in iter() do if i == 2 then break end end
print("end")
