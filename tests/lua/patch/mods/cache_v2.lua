local M = {}
local cache = {hits = 0}
function M.get()
    cache.hits = cache.hits + 1
    return cache.hits
end
return M
