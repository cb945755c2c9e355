-- Guide: "Best Practices > 1. Module Organization Recommendations > Keep Upvalue Structure
-- Stable", the old version as written; `local M = {}` and `return M` are the wrapper.
local M = {}
-- Old version
local config = {timeout = 1000}
function M.get_timeout()
return config.timeout
end
return M
