-- A __close run by coroutine.close cannot yield (as in PUC): the yield is refused.
local co = coroutine.create(function()
  local x <close> = setmetatable({}, {__close = function() coroutine.yield() end})
  coroutine.yield()
end)
coroutine.resume(co)
print(coroutine.close(co))
