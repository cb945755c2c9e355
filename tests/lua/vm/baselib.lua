-- Base functions.
print(type(nil), type(1), type("s"), type({}), type(print), type(true), type(2.5))
print(tostring(nil), tostring(true), tostring(12), tostring(1.5), tostring("x"))
print(rawequal(1, 1.0), rawequal("a", "a"), rawequal({}, {}), rawlen({1, 2}), rawlen("abc"))
local t = setmetatable({}, {__index = function(_, k) return k * 10 end})
print(rawget(t, 1), t[1], rawset(t, 1, "one") == t, t[1])
local p = setmetatable({}, {__pairs = function(self) return function(_, k) if not k then return 1, "first" end end, self, nil end})
for k, v in pairs(p) do print("pairs", k, v) end
local proxy = setmetatable({}, {__index = function(_, i) if i <= 3 then return i * i end end})
for i, v in ipairs(proxy) do print("ipairs", i, v) end
for i, v in ipairs({1, 2, nil, 4}) do print("ipairs2", i, v) end
local keys = {}
for k in pairs({10, 20, 30}) do keys[#keys + 1] = k end
print(#keys, keys[1], keys[2], keys[3])
print(next({}), next({5}))
print(select("#", nil, nil), select(2, "a", "b", "c"))
print(getmetatable("abc").__index == string, getmetatable({}), getmetatable(setmetatable({}, {__metatable = false})))
-- load: strings, chunk names, env, syntax errors, reader functions
local f = load("return 1 + ...")
print(f(41))
print(load("x = ", "=mychunk"))
print(load("syntax error here"))
local env = {y = 5}
local g = load("y = y + 1 return y", "envchunk", "t", env)
print(g(), env.y, y)
print(pcall(load("error('in loaded')", "=loaded")))
print(pcall(load("error('in loaded2')", "@file.lua")))
print(pcall(load("error('in loaded3')")))
local parts = {"return ", "'joined'", nil}
local i = 0
print(load(function() i = i + 1 return parts[i] end)())
print(load("return _ENV")() == _G, load("return _ENV", "c", "t", nil)())
print(load("\27Lua", "bin", "t"))
-- tonumber edge cases
print(tonumber("0x"), tonumber("1e1"), tonumber("0x1P-1"), tonumber("inf"), tonumber("nan"), tonumber("  0x10  "))
print(tonumber("10", 36), tonumber("Z", 36), tonumber(" 11 ", 2), tonumber("1.5", 10))
-- print with __tostring and __name
print(setmetatable({}, {__tostring = function() return "custom" end}))
print(pcall(print, setmetatable({}, {__tostring = function() return 1 end})))
print(_VERSION, _G._G == _G)
print(collectgarbage("count") > 0, collectgarbage() == 0)
print(assert("v", "msg"))
print(select(-1, 1, 2, 3))
print("ok")
