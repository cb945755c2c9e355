-- Guide: "Debugging Tips > 2. Compare Old and New Upvalues", as written; the wrapper line
-- below provides the two upvalue trees (running version 1, new version 2).
local _, _, _, up_old, up_new = dofile("reload_begin.lua")
local function compare_upvals(up_old, up_new)
local old_keys = {}
local new_keys = {}
for name, info in pairs(up_old) do
if info.upvals then
for uname in pairs(info.upvals) do
old_keys[name .. "." .. uname] = true
end
end
end
for name, info in pairs(up_new) do
if info.upvals then
for uname in pairs(info.upvals) do
local key = name .. "." .. uname
new_keys[key] = true
if not old_keys[key] then
print("+ New upvalue: " .. key)
end
end
end
end
for key in pairs(old_keys) do
if not new_keys[key] then
print("- Removed upvalue: " .. key)
end
end
end
-- Usage
compare_upvals(up_old, up_new)
