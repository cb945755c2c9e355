-- issue 13 item 3 "In place": every live closure of a changed function runs the new code on
-- its next call, wherever it is held: a timer, a table key and value, a suspended coroutine,
-- another module's local; closures a factory made (100 of them) are updated too; identity
-- (rawequal, table keys) is kept.
local S = require "support"
local reload = require "hotlua.reload"
local time = require "silly.time"
S.install("mods/holders_v1.lua", "holders.lua")
local M = require "holders"
local user = require "mods.user"
local held = M.tick
print(held(), user.call())
local keyed = {[held] = "found"}
local made = {}
for i = 1, 100 do
    made[i] = M.make(i)
end
print(made[1](), made[100]())
local co = coroutine.wrap(function()
    local f = M.tick
    coroutine.yield("suspended")
    return f()
end)
print(co())
local fired = nil
time.after(50, function()
    fired = held()
end)
S.install("mods/holders_v2.lua", "holders.lua")
local ok, report = reload.apply({"holders"})
print("apply", ok, report.error)
local m = report.modules.holders
print("changed", S.join(m.changed))
print("moved", S.join(m.moved))
print("closures", m.closures)
print("updated", S.join(m.fields.updated))
-- Held references run the new code; identity is kept.
print(held(), user.call(), co())
print(rawequal(held, M.tick), keyed[M.tick], next(keyed) == M.tick)
local all = true
for i = 1, 100 do
    all = all and made[i]() == "made v2 " .. i
end
print("factory closures", all, made[7]())
print(M.make("new")())
time.sleep(100)
print("timer", fired)
