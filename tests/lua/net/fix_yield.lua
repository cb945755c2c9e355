-- Yields and loops on sleep a few times.
local time = require "silly.time"
for _ = 1, 3 do time.sleep(10) end
coroutine.yield()
state.v = 7
