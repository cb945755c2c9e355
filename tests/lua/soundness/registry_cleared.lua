-- The event loop roots its tasks itself: a script emptying the registry does not free them.
local time = require "silly.time"
local task = require "silly.task"
for i = 1, 3 do
  task.fork(function() time.sleep(5 * i) print("task", i, "woke") end)
end
local reg = debug.getregistry()
for k in pairs(reg) do if k ~= "_LOADED" and k ~= 1 and k ~= 2 then reg[k] = nil end end
collectgarbage() collectgarbage()
local junk = {} for k = 1, 20000 do junk[k] = {k} end
collectgarbage()
print("main done")
