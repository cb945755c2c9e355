-- silly's upstream patch test, case 1 (our own version): a local function `add` is
-- shadowed by a local `add` holding a closure (made by make_twice) that calls the first one
-- twice. M.run reaches the inner `add` two levels down: $.run.add.add.
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
