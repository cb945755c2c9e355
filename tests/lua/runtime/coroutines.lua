-- Tasks are coroutines: user coroutines nest inside them, a plain yield gives way to the
-- other ready tasks, sleeping inside pcall works, and silly.pcall adds a traceback.
local task = require "silly.task"
local time = require "silly.time"
local silly = require "silly"
local gen = coroutine.wrap(function(a)
  local b = coroutine.yield(a + 1)
  time.sleep(1) -- not a task: must fail
  return b
end)
print(gen(1))
print(pcall(gen, 2))
local order = {}
local function rec(x) order[#order + 1] = x end
task.fork(function(x) rec(x .. "1"); coroutine.yield(); rec(x .. "2") end, "a")
task.fork(function(x) rec(x .. "1"); coroutine.yield(); rec(x .. "2") end, "b")
time.sleep(1)
print(table.concat(order, " "))
local t = task.fork(function()
  local v = task.wait()
  print("woken with", v)
  print(pcall(function() time.sleep(2); error("inside pcall", 0) end))
  local ok, err = silly.pcall(function() time.sleep(1); error("traced") end)
  print(ok, err:match("^coroutines.lua:%d+: traced\nstack traceback:\n") ~= nil)
  print(silly.pcall(function(...) return ... end, 1, 2))
end)
time.sleep(1)
print(task.status(t))
print(pcall(task.wakeup, task.running(), 1))
task.wakeup(t, "hello")
print(task.status(t))
print(pcall(task.wakeup, t, 2))
time.sleep(10)
print(task.status(t), task.running() ~= nil, coroutine.isyieldable())
print(silly.fork == task.fork)
