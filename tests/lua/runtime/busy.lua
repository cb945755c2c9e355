-- A plain script that never yields to the loop. SIGINT and SIGTERM stop it as lua.c stops
-- it on SIGINT: "interrupted!", to-be-closed variables closed, files flushed.
local path = ...
local t <close> = setmetatable({}, {__close = function() print("closed") end})
local f = path and assert(io.open(path, "w"))
if f then f:write("buffered") end
print("spin")
while true do end
