local silly = require "silly"
local time = require "silly.time"
time.after(1000, function() print("never") end)
io.write("before exit ")
print(arg[1])
time.after(5, function() silly.exit(tonumber(arg[1])) print("not after exit") end)
time.sleep(100)
print("not reached")
