-- Guide: "Troubleshooting > Common Error 3: Global Variable Pollution", the solution snippet
-- as written, in two parts: loading into an isolated environment, then (after the hot
-- reload) the merge loop. The wrapper (every other line) checks that nothing leaked into
-- _G before the merge and does the hot reload.
local S = require "support"
local patch = require "silly.patch"
local old_module = require "mymodule"
-- Use isolated environment to load new module
local ENV = setmetatable({}, {__index = _ENV})
local new_module = loadfile("mymodule.lua", "bt", ENV)()
S.eq(rawget(_G, "TRACE"), nil, "TRACE not in _G before the merge")
S.eq(rawget(_G, "decorate"), nil, "decorate not in _G before the merge")
S.eq(GREETING, "Hello", "_G's GREETING untouched")
S.eq(rawget(ENV, "GREETING"), "Hi", "the new chunk's GREETING is in ENV")
S.eq(ENV.TRACE, true, "TRACE in ENV")
S.eq(ENV.print, print, "ENV sees the globals through __index")
local P = patch.new()
local absent = P:join(P:collectupval(new_module), P:collectupval(old_module))
S.eq(#absent, 0, "nothing absent")
for name, fn in pairs(new_module) do
    if type(fn) == "function" then
        old_module[name] = fn
    end
end
-- After hot reload, merge needed global variables to _ENV
for k, v in pairs(ENV) do
if not _ENV[k] or type(v) == "function" then
_ENV[k] = v
end
end
