local M = {}

function M.fail()
  error("boom again")
end
return M
