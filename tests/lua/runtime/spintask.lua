-- A server whose task never yields: a signal interrupts the task, then the loop shuts down
-- cleanly (finalizers, flushed files) with 128 + signal.
local time = require "silly.time"
local path = ...
setmetatable({}, { __gc = function() print("finalized") end })
local f = assert(io.open(path, "w"))
f:write("buffered")
time.after(10, function()
  local t <close> = setmetatable({}, {__close = function() print("task closed") end})
  print("spin")
  while true do end
end)
time.sleep(60000)
print("not reached")
