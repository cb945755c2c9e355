-- The guide's route example as a live server: route.lua (v1) answers HTTP on
-- 127.0.0.1:8080 and an operator console listens on 127.0.0.1:2345.
-- Usage: hotlua main.lua [--port=8080] [--console=127.0.0.1:2345] [--host=127.0.0.1]
local env = require "silly.env"
local http = require "silly.net.http"
local logger = require "silly.logger"

-- route.lua lives beside this script, wherever it is started from
local dir = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = dir .. "/?.lua;" .. package.path

local route = require "route"

local host = env.get("host") or "127.0.0.1"
local port = env.get("port") or "8080"
local console_addr = env.get("console") or "127.0.0.1:2345"

require "silly.console"{addr = console_addr}

-- Look the handler up on every request, so a hotfix that replaces
-- route.handle_request takes effect at once.
local listener, err = http.listen{addr = host .. ":" .. port, handler = function(req, res)
  route.handle_request(req, res)
end}
if not listener then error("cannot listen on " .. host .. ":" .. port .. ": " .. err) end
logger.info("route server on http://" .. listener.addr .. ", console on " .. console_addr)
