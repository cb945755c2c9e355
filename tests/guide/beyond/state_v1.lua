-- Beyond the guide (spec/patch.md, the consistency pass): version 1 counts hits and keeps
-- the names; fmt is a local helper.
local M = {}
local hits = 0
local names = {}
local function fmt(name)
    return "<" .. name .. ">"
end
function M.hit(name)
    hits = hits + 1
    names[#names + 1] = fmt(name)
end
function M.count()
    return hits
end
return M
