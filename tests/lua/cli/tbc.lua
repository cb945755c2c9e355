local x <close> = setmetatable({}, {__close = function (_, e) print("closed x", e) end})
local y <close> = setmetatable({}, {__close = function () print("closed y") end})
os.exit(true, true)
