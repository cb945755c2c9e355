local M = {}

function M.fail()
  error("boom again")
end
function M.say()
  require("silly.logger").info("said by v2")
end
return M
