-- Beyond the guide (spec/patch.md, the consistency pass): version 2. hit and count no longer
-- use `hits`; hits() and last(), which only this version has, read `hits`, `names` and the
-- local helper fmt. silly would neither join nor report hits() and last(): they would see
-- this chunk's fresh state.
local M = {}
local hits = 0
local names = {}
local function fmt(name)
    return "[" .. name .. "]"
end
function M.hit(name)
    names[#names + 1] = fmt(name)
end
function M.count()
    return #names
end
function M.hits()
    return hits
end
function M.last()
    return names[#names], fmt("x")
end
return M
