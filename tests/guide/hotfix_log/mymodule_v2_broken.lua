-- Guide: "Best Practices > 5. Record Hot Reload Logs": a new version that fails to load.
local M = {VERSION = "1.2.4"}
error("broken build")
return M
