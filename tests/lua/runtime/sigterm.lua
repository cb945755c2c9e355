local time = require "silly.time"
setmetatable({}, { __gc = function() print("finalized") end })
-- "ready" is printed once the loop has waited for events (signals then shut it down)
time.after(0, function() print("ready") end)
time.sleep(60000)
print("not reached")
