-- Test server for tests/http.rs's robustness tests. Arguments: --port=N and
-- --opts=name=value,... (http.listen options, integers).
local env = require "silly.env"
local http = require "silly.net.http"
local time = require "silly.time"

local conf = {addr = "127.0.0.1:" .. env.get("port")}
for k, v in (env.get("opts") or ""):gmatch("([%w_]+)=(%d+)") do conf[k] = tonumber(v) end

local served = 0
conf.handler = function(req, res)
  served = served + 1
  local p = req.path
  if p == "/error" then
    error("boom")
  elseif p == "/errobj" then
    error(setmetatable({}, {__tostring = function() error("tostring fails") end}))
  elseif p == "/inject" then
    res:header("X-A", "a\r\nInjected: yes")
    res:send("not reached")
  elseif p == "/injectnul" then
    res:header("X-A", "a\0b")
  elseif p == "/badname" then
    res:header("Bad Name", "x")
  elseif p == "/nocontent" then
    res:status(204)
    res:send("dropped")
  elseif p == "/sleep" then
    time.sleep(tonumber(req.params.ms) or 100)
    res:send("slept")
  elseif p == "/served" then
    res:send(tostring(served))
  else
    res:header("X-Version", req.version)
    res:send(table.concat({req.method, p, req.body, tostring(req.headers["x-test"])}, "|"))
  end
end
local l = assert(http.listen(conf))
print("listening " .. l.addr)
