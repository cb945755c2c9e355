-- Guide: "Debugging Tips > 3. Verify Hot Reload Results", as written. The wrapper (the lines
-- before the snippet and after its usage line) joins and replaces every function but `show`
-- (a forgotten one), then, after a full replacement and the VERSION copy, verifies again.
local P, old_module, new_module, up_old, up_new = dofile("reload_begin.lua")
P:join(up_new, up_old)
for name, fn in pairs(new_module) do
    if type(fn) == "function" and name ~= "show" then
        old_module[name] = fn
    end
end
local function verify_hotfix(old_module, new_module)
-- Check if functions are correctly replaced
for name, fn in pairs(new_module) do
if type(fn) == "function" then
if old_module[name] ~= fn then
print("Warning: " .. name .. " not replaced")
end
end
end
-- Check version number
if old_module.VERSION and new_module.VERSION then
if old_module.VERSION == new_module.VERSION then
print("Warning: VERSION not updated")
else
print("Version updated: " .. old_module.VERSION ..
" -> " .. new_module.VERSION)
end
end
end
-- Usage
verify_hotfix(old_module, new_module)
print("--")
old_module.show = new_module.show
old_module.VERSION = new_module.VERSION
verify_hotfix(old_module, new_module)
old_module.show()
