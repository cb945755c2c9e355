-- Guide: "Keep Upvalue Structure Stable", the recommended new version as written (wrapped).
local M = {}
-- New version (add new field, keep original structure)
local config = {timeout = 2000, retry = 3}
function M.get_timeout()
return config.timeout
end
return M
