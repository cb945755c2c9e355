-- Guide: "Basic Concepts > Upvalue Continuity", the "Old code" snippet as written, wrapped
-- as a module (the `M` lines are the wrapper).
local M = {}
-- Old code
local count = 100 -- Current value: 100
function increment()
count = count + 1
return count
end
M.increment = increment
return M
