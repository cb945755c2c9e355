-- sleep never returns early, and not much later.
local time = require "silly.time"
for _, ms in ipairs { 0, 1, 3, 10, 25, 50 } do
  local t0 = time.monotonic()
  time.sleep(ms)
  local dt = time.monotonic() - t0
  print(ms, dt >= ms, dt < ms + 250)
end
assert(math.type(time.now()) == "integer" and time.now() > 1600000000000)
assert(math.type(time.monotonic()) == "integer")
print(select("#", time.sleep(1)))
-- sleeping is idle: the loop blocks in the poller instead of spinning
local c0 = os.clock()
time.sleep(200)
print("idle cpu", os.clock() - c0 < 0.05)
