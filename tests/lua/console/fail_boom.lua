-- Calls a function of the boom module: the error position names its version.
local boom = require "boom"
local ok, err = pcall(boom.fail)
print(err)
print((select(2, xpcall(boom.fail, debug.traceback))))
print("getinfo version", debug.getinfo(boom.fail, "S").version)
if boom.say then boom.say() end
