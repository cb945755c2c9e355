-- An error in a task is logged and the others go on.
local task = require "silly.task"
local time = require "silly.time"
task.fork(function()
  local x = nil
  x.y = 1
end)
task.fork(function()
  time.sleep(5)
  print("still running")
end)
time.after(1, function() error("boom in timer") end)
time.sleep(20)
print("main done")
