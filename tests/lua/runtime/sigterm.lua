local time = require "silly.time"
setmetatable({}, { __gc = function() print("finalized") end })
print("ready")
time.sleep(60000)
print("not reached")
