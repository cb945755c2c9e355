local t = {}
local function lvl3() local x = t.a.b end
local function lvl2() lvl3() end
lvl2()
