-- silly's upstream patch test, case 5 (our own version): foo uses nothing.
local M = {}
function M.foo()
end
return M
