-- Beyond the guide (spec/patch.md): a recursive local function and a helper shared by two
-- module functions: the upvalue tree is a graph, visited once per closure.
local M = {}
local calls = 0
local total = 0
local function fact(n)
    calls = calls + 1
    if n <= 1 then
        return 1
    end
    return n * fact(n - 1)
end
local function bump(k)
    total = total + k
    return total
end
function M.fact(n)
    return fact(n)
end
function M.add(k)
    return bump(k)
end
function M.sub(k)
    return bump(-k)
end
function M.stats()
    return calls, total
end
return M
