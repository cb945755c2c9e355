-- silly's upstream patch test, case 2, version 2: as case 1's, with the step in a local.
-- The inner add's `step` is absent ($.run.add.add.step) and keeps the new chunk's cell,
-- which make_twice bumped to 4 while the chunk loaded.
local step = 3
local total = 3
local M = {}
local function add()
    total = total + step
end
local function make_twice()
    step = step + 1
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
