-- A server for tests/console.rs: the guide's route module behind HTTP, and a console.
-- Arguments: --cport=PORT --hport=PORT [--deadline=MS] [--ttl=MS]. Runs in a scratch directory holding
-- route.lua (and whatever the test writes there).
local env = require "silly.env"
local http = require "silly.net.http"

package.path = "./?.lua;" .. package.path
local route = require "route"

local l = assert(http.listen{
  addr = "127.0.0.1:" .. env.get("hport"),
  handler = function(req, res)
    if req.path == "/stats" then
      res:send(tostring(route.get_stats().total))
    else
      route.handle_request(req, res)
    end
  end,
})
require "silly.console"{
  addr = "127.0.0.1:" .. env.get("cport"),
  deadline = tonumber(env.get("deadline") or "1000") // 1,
  prepare_ttl = tonumber(env.get("ttl") or "60000") // 1,
}
print("ready " .. l.addr)
