-- 100,000 tasks in a ring pass a counter through wait/wakeup, twice round.
local task = require "silly.task"
local N = tonumber(... or 100000)
local tasks = {}
local total = 0
for i = 1, N do
  tasks[i] = task.fork(function()
    for lap = 1, 2 do
      local v = task.wait()
      total = total + 1
      local nxt = tasks[i % N + 1]
      if lap == 2 and i == N then
        print("ring done", v, total)
      else
        task.wakeup(nxt, v + 1)
      end
    end
  end)
end
print("ready", task.readycount())
-- the starter runs after every ring task has reached its wait
task.fork(function() task.wakeup(tasks[1], 1) end)
