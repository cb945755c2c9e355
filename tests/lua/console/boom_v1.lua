local M = {}
function M.fail()
  error("boom")
end
return M
