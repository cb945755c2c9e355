-- Timer order (deadline, then creation), cancel, the session argument, new tasks.
local time = require "silly.time"
local task = require "silly.task"
local out = {}
local function rec(x) out[#out + 1] = x end
time.after(30, rec, "a30")
time.after(10, rec, "b10")
time.after(30, rec, "c30")
time.after(10, rec, "d10")
time.after(0, rec, "e0")
local s2
s2 = time.after(5, function(x) rec(x == s2 and "session" or "bad:" .. tostring(x)) end)
local s = time.after(20, rec, "cancelled")
assert(math.type(s) == "integer")
assert(time.cancel(s) == true)
assert(time.cancel(s) == false)
assert(time.cancel(123456) == false)
-- each callback runs in a task of its own
local seen = {}
for i = 1, 3 do
  time.after(1, function()
    local t = task.running()
    assert(t and t ~= seen[1] and t ~= seen[2])
    seen[#seen + 1] = t
  end)
end
local fired = false
local s3 = time.after(1, function() fired = true end)
time.sleep(40)
assert(time.cancel(s3) == false, "a fired timer cannot be cancelled")
assert(fired and #seen == 3)
print(table.concat(out, " "))
-- a million-timer scale is covered by the Rust tests; here many equal deadlines
local order = {}
for i = 1, 1000 do time.after(3, function() order[#order + 1] = i end) end
time.sleep(10)
for i = 1, 1000 do assert(order[i] == i, "creation order") end
print("equal deadlines in creation order")
