-- Guide: "Best Practices > 5. Record Hot Reload Logs": the new version.
local M = {VERSION = "1.2.3"}
local hits = 0
function M.hit()
    hits = hits + 10
    return hits
end
return M
