-- Limits and warnings as lua5.4 has them (issue 15):
-- only a single-piece warn("@...") is a control message;
warn("@on")
warn("", "@on")
warn("@off", "x", "@off")
warn("@off")
warn("not shown")
-- a coroutine returning about a million values cannot hand them to its resumer;
local t = {}
for i = 1, 1000000 - 10 do t[i] = i end
local co = coroutine.create(function () return table.unpack(t) end)
print(coroutine.resume(co))
-- a stack overflow inside the message handler of an overflow is "error in error handling".
local function loop (x) return 1 + loop(x) end
print(xpcall(loop, function (m)
  local ok, e = pcall(loop)
  print("handler:", string.find(m, "stack overflow") ~= nil, ok, e)
  return "handled"
end))
-- after an overflow caught by xpcall (whose handler used the extra stack), the next
-- overflow still leaves its handler room to run.
print(xpcall(loop, function (m) return "again: " .. tostring(string.find(m, "stack overflow") ~= nil) end))
print("limits_and_warnings done")
