local time = require "silly.time"
time.after(10000, function() print("never") end)
local function fail()
  error("boom")
end
time.sleep(1)
print("slept")
fail()
