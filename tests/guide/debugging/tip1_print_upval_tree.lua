-- Guide: "Debugging Tips > 1. Print Upvalue Tree Structure", as written; the wrapper line
-- below provides `P` and the module (`mymodule`, the running version 1).
local P, mymodule = dofile("reload_begin.lua")
local function print_upval_tree(up, indent)
indent = indent or 0
local prefix = string.rep(" ", indent)
for name, info in pairs(up) do
if type(info) == "table" and info.upvals then
print(prefix .. name .. ":")
for uname, uinfo in pairs(info.upvals) do
print(prefix .. " [" .. uinfo.idx .. "] " .. uname ..
" (" .. uinfo.utype .. ")")
end
print_upval_tree(info.upvals, indent + 1)
end
end
end
-- Usage
local up = P:collectupval(mymodule)
print_upval_tree(up)
