local M = {VERSION = 1}
function M.get() return M.VERSION end
return M
