-- Guide: "Basic Concepts > Upvalue Continuity", the "Incorrect hot reload method" snippet as
-- written, wrapped as the module's new version: its chunk declares its own `count` at the
-- initial value (the wrapper's line), which is what "a brand new variable" means.
local M = {}
local count = 0
-- Incorrect hot reload method
function increment() -- New function's count is a brand new variable
count = count + 2 -- count starts from initial value, not 100
return count
end
-- Result: count value is lost
M.increment = increment
return M
