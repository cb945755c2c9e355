-- silly's upstream patch test, case 2 (our own version): as case 1, version 1.
local total = 3
local M = {}
local function add()
    total = total + 2
end
local function make_twice()
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
