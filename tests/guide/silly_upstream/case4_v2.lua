-- silly's upstream patch test, case 4, version 2: foo now uses b as well. The old foo had
-- no b, so it is absent ($.foo.b); silly's test joins it by hand, hotlua joins it to the
-- cell foo2's and bar's b were joined to, so foo counts on the running b.
local M = {}
local a, b = 0, 0
function M.foo()
    a = a + 1
    b = b + 1
    return a, b
end
function M.foo2()
    b = b + 3
    return b
end
function M.bar()
    return a, b
end
return M
