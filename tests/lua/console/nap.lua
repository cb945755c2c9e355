-- Starts a task sleeping inside slow.nap (the census sees it once slow is patched).
local task = require "silly.task"
local slow = require "slow"
task.fork(function() slow.nap(600) end)
require("silly.time").sleep(50) -- let the task start and reach its sleep
