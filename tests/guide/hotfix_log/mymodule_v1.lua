-- Guide: "Best Practices > 5. Record Hot Reload Logs": the running module (written for the
-- test).
local M = {VERSION = "1.2.2"}
local hits = 0
function M.hit()
    hits = hits + 1
    return hits
end
return M
