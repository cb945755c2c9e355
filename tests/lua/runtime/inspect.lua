local task = require "silly.task"
local time = require "silly.time"
local silly = require "silly"
local waiter = task.fork(function() task.wait() end)
local sleeper = task.fork(function() time.sleep(100000) end)
local ready = task.fork(function() end)
assert(task.status(ready) == "ready")
assert(task.readycount() == 3)
time.sleep(1)
assert(task.status(ready) == nil, "a finished task is released")
local info = task.inspect()
local me = task.running()
local n = 0
for t, v in pairs(info) do
  n = n + 1
  assert(type(t) == "thread" and type(v) == "table")
  assert(v.traceback:match("^stack traceback:"), v.traceback)
end
print(n, info[me].status, info[waiter].status, info[sleeper].status)
print(info[me].traceback:find("inspect.lua:", 1, true) ~= nil)
print(info[waiter].traceback:find("in function 'silly.task.wait'", 1, true) ~= nil
  or info[waiter].traceback:find("wait", 1, true) ~= nil)
print(info[sleeper].traceback:find("inspect.lua:5", 1, true) ~= nil)
-- finished and failed tasks are released: nothing else keeps their threads alive
local weak = setmetatable({}, { __mode = "k" })
weak[task.fork(function() end)] = true
weak[task.fork(function() error("dies", 0) end)] = true
time.after(0, function() weak[task.running()] = true end)
time.sleep(2)
collectgarbage()
collectgarbage()
print("released", next(weak) == nil)
silly.exit(0)
