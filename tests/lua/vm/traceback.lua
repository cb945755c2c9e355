-- Tracebacks in PUC's layout (function names from call sites and globals).
local M = {}
function M.f(x) error("boom") end
local function loc() M.f() end
function glob() loc() end
local up = function() glob() end
local obj = {}
function obj:meth() up() end
local function tail() return obj:meth() end
print(xpcall(function() tail() end, debug.traceback))
print(debug.traceback("msg"))
print(debug.traceback("msg", 2))
print(type(debug.traceback({})))
print(pcall(debug.traceback, nil))
local function rec(n) if n == 0 then return debug.traceback("deep") end return (rec(n - 1)) end
print(rec(30))
local t = setmetatable({}, {__index = function(t, k) return debug.traceback("in index") end})
print(t.x)
local mt = {__add = function(a, b) return debug.traceback("in add") end}
print(setmetatable({}, mt) + 1)
for k, v in pairs({a = 1}) do print(debug.traceback("in loop")) end
print((function() return debug.traceback("anon") end)())
glob = nil
local fieldholder = {sub = {}}
function fieldholder.sub.fn() return debug.traceback("nested field") end
print(fieldholder.sub.fn())
