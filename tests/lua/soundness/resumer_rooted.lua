-- The coroutine that resumed another one stays alive while the inner one runs, even when a
-- script drops every reference to it.
local outer
outer = coroutine.wrap(function()
  debug.setupvalue(outer, 1, nil)
  coroutine.wrap(function()
    collectgarbage()
    local t = {} for i = 1, 2000 do t[i] = {i} end
    collectgarbage()
  end)()
  return "outer survived"
end)
print(outer())
