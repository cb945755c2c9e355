-- silly's upstream patch test, case 4 (our own version): foo uses a, foo2 uses b, bar both.
local M = {}
local a, b = 3, 4
function M.foo()
    a = a + 1
    return a
end
function M.foo2()
    b = b + 2
    return b
end
function M.bar()
    return a, b
end
return M
