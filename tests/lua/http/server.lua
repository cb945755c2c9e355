-- Test server for tests/http.rs: each path shows one part of the request API.
local env = require "silly.env"
local http = require "silly.net.http"

local function sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. t[k] end
  return table.concat(out, "&")
end

local l = assert(http.listen{addr = "127.0.0.1:" .. env.get("port"), handler = function(req, res)
  if req.path == "/error" then
    error("boom")
  elseif req.path == "/nosend" then
    return
  elseif req.path == "/header" then
    res:status(201)
    res:header("X-Reply", "yes")
    res:send("h")
  else
    res:send(table.concat({req.method, req.path, sorted(req.params),
      tostring(req.headers["x-test"]), req.body}, "|"))
  end
end})
print("listening " .. l.addr)
