-- silly's upstream patch test, case 1, version 2: the inner add steps by a global, which
-- make_twice bumps once while the chunk loads (3 -> 4). The old inner add used no global:
-- its new `_ENV` is absent ($.run.add.add._ENV) and join gives it the global table.
upstream_case1_step = 3
local total = 3
local M = {}
local function add()
    total = total + upstream_case1_step
end
local function make_twice()
    upstream_case1_step = upstream_case1_step + 1
    return function()
        add()
        add()
    end
end
local add = make_twice()
function M.run()
    add()
    return total
end
return M
