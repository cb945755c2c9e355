-- A module whose v1 has a function the next version removes (tests/console.rs).
local M = {}
function M.old() return "old" end
function M.new() return "new" end
return M
