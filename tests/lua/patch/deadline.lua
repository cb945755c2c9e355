-- opts.deadline: a reload whose new chunk never ends (holding on with pcall, and inside a
-- coroutine it resumed) is stopped at its deadline and rolled back; the old version keeps
-- serving with its state; the next reload within budget applies; the log records both.
local S = require "support"
local reload = require "hotlua.reload"
S.write("m.lua", "local M = {}\nlocal n = 0\nfunction M.f() n = n + 1 return 'v1 ' .. n end\nreturn M\n")
local m = require "m"
print(m.f())
S.write("m.lua", [[
local M = {}
local n = 0
function M.f() n = n + 1 return 'v2 ' .. n end
local co = coroutine.wrap(function()
  while true do pcall(function() while true do end end) end
end)
while true do pcall(co) end
return M
]])
local t0 = os.clock()
local ok, r = reload.apply({"m"}, {deadline = 150})
print(ok, r.step, (r.error:gsub("^.-:%d+: ", "")), os.clock() - t0 < 2)
print(m.f())
S.write("m.lua", "local M = {}\nlocal n = 0\nfunction M.f() n = n + 1 return 'v2 ' .. n end\nreturn M\n")
ok, r = reload.apply({"m"}, {deadline = 1000, who = "deadline test"})
print(ok, m.f())
for _, e in ipairs(reload.log()) do print(e.seq, e.action, e.module, e.ok, e.who) end
print(pcall(reload.apply, {"m"}, {deadline = 0}))
