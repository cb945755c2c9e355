-- Beyond the guide (spec/patch.md): `absent` is sorted. Version 1: the same functions as
-- version 2 (silly reports only the upvalues of functions both versions have).
local M = {}
local base = 1
function M.get()
    return base
end
function M.zz()
end
function M.aa()
end
function M.mm()
end
return M
