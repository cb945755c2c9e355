-- Beyond the guide (spec/patch.md): `absent` is sorted. Version 1.
local M = {}
local base = 1
function M.get()
    return base
end
return M
