-- Beyond the guide (spec/patch.md): version 2 brings new upvalues in several functions,
-- declared in no particular order.
local M = {}
local zeta, base, alpha, mid, beta = 26, 1, 1, 13, 2
local yank, kilo, delta = {}, 11, 4
function M.get()
    return base + zeta + alpha
end
function M.zz()
    return mid, yank, beta
end
function M.aa()
    return kilo, delta, zeta
end
function M.mm()
    return delta, alpha
end
return M
