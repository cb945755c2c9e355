-- Timer throughput of the silly runtime (hotlua only): schedules N timers through
-- silly.time.after with delays spread over 0..9 ms, cancels every 10th, and measures how
-- fast they are scheduled and how fast the loop fires them (each firing runs its
-- callback in a new task). Usage: hotlua benches/runtime/timers.lua [N]
local time = require "silly.time"
local N = math.tointeger(tonumber(... or 1000000))
local fired = 0
local function cb() fired = fired + 1 end
local t0 = os.clock()
local sessions = {}
for i = 1, N do
  sessions[i] = time.after(i % 10, cb)
end
local t1 = os.clock()
local cancelled = 0
for i = 10, N, 10 do
  if time.cancel(sessions[i]) then cancelled = cancelled + 1 end
end
sessions = nil
local t2 = os.clock()
local expect = N - cancelled
while fired < expect do time.sleep(1) end
local t3 = os.clock()
print(string.format("scheduled %d timers: %.0f timers/s (after)", N, N / (t1 - t0)))
print(string.format("cancelled %d: %.0f cancels/s", cancelled, cancelled / (t2 - t1)))
print(string.format("fired %d: %.0f timers/s (fire + task per callback), cpu %.2f s total",
  fired, fired / (t3 - t2), t3 - t0))
