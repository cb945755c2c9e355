-- A module whose function sleeps: a frame that runs its old version while it is patched.
local time = require "silly.time"
local M = {}
function M.nap(ms)
  time.sleep(ms)
  return "napped v1"
end
return M
