-- An uncaught error DEPTH calls deep in the main chunk (traceback elision).
local depth = tonumber(arg[1])
local function f(n) if n == 0 then error("deep") end return (f(n - 1)) end
f(depth)
