-- silly's upstream patch test, case 5, version 2: foo bumps a global the chunk sets. The old
-- foo had no `_ENV`: absent ($.foo._ENV), and join gives it the global table.
local M = {}
upstream_case5_bar = 3
function M.foo()
    upstream_case5_bar = upstream_case5_bar + 1
end
return M
