-- The Lua half of silly.net.http (see http.rs and spec/http.md): one task per connection,
-- requests served in order (keep-alive); nothing a client sends or a handler does may stop
-- the listener or leave a socket open.
local c = ...
local tcp = require "silly.net.tcp"
local logger = require "silly.logger"
local time = require "silly.time"

local M = {}

-- listen's options and their defaults (bytes, milliseconds, connections).
local DEFAULTS = {
  max_header_size = 64 * 1024,
  max_body_size = 16 * 1024 * 1024,
  header_timeout = 60000,
  body_timeout = 120000,
  keepalive_timeout = 30000,
  write_timeout = 30000,
  max_connections = 1024,
}

-- Requests served in a row from what was already received (pipelined) before the task lets
-- the others run.
local BATCH = 16

-- After answering a request it will not read further (an error, or Connection: close),
-- the server stops sending and discards what still comes, for at most this long and this
-- many bytes, so that closing does not reset the connection before the client has read
-- the answer.
local LINGER_MS = 2000
local LINGER_BYTES = 1024 * 1024

local REASON = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted",
  [204] = "No Content", [206] = "Partial Content", [301] = "Moved Permanently",
  [302] = "Found", [303] = "See Other", [304] = "Not Modified",
  [307] = "Temporary Redirect", [308] = "Permanent Redirect", [400] = "Bad Request",
  [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [410] = "Gone", [411] = "Length Required", [413] = "Content Too Large",
  [414] = "URI Too Long", [415] = "Unsupported Media Type", [422] = "Unprocessable Content",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
  [505] = "HTTP Version Not Supported",
}

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- path and decoded params of a request target.
local function split_target(target)
  local path, query = target:match("^([^?]*)%??(.*)$")
  local params = {}
  for pair in query:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    params[unescape(k)] = unescape(v)
  end
  return unescape(path), params
end

-- The text of an error value, whatever it is (a failing __tostring included).
local function describe(e)
  if type(e) == "string" then return e end
  local ok, s = pcall(tostring, e)
  if ok and type(s) == "string" then return s end
  return "(error object is a " .. type(e) .. " value)"
end

local function traceback(e)
  return debug.traceback(describe(e), 2)
end

local response = {}
response.__index = response

function response:status(code)
  local n = math.tointeger(code)
  if not n or n < 200 or n > 999 then
    error("bad argument #1 to 'status' (status code 200-999 expected)", 2)
  end
  self.code = n
  return self
end

function response:header(name, value)
  local tn, tv = type(name), type(value)
  if tn ~= "string" and tn ~= "number" then
    error("bad argument #1 to 'header' (string expected, got " .. tn .. ")", 2)
  end
  if tv ~= "string" and tv ~= "number" then
    error("bad argument #2 to 'header' (string expected, got " .. tv .. ")", 2)
  end
  name, value = tostring(name), tostring(value)
  local why = c.validheader(name, value)
  if why then
    error("bad argument #" .. (why:find("name", 1, true) and 1 or 2) .. " to 'header' ("
      .. why .. ")", 2)
  end
  self.headers[#self.headers + 1] = {name, value}
  return self
end

function response:send(body)
  if self.sent then return nil, "response already sent" end
  self.sent = true
  body = body == nil and "" or tostring(body)
  local code = self.code
  -- RFC 9110 6.4.1: no content (nor Content-Length) in a 204 or a 304
  local bodiless = code == 204 or code == 304
  local out = {string.format("HTTP/1.1 %d %s\r\n", code, REASON[code] or "Unknown")}
  local has_type = false
  for _, h in ipairs(self.headers) do
    local n = h[1]:lower()
    if n ~= "content-length" and n ~= "connection" and n ~= "transfer-encoding" then
      if n == "content-type" then has_type = true end
      out[#out + 1] = h[1] .. ": " .. h[2] .. "\r\n"
    end
  end
  if not bodiless then
    if not has_type then out[#out + 1] = "Content-Type: text/plain; charset=utf-8\r\n" end
    out[#out + 1] = "Content-Length: " .. #body .. "\r\n"
  end
  if self.close then
    out[#out + 1] = "Connection: close\r\n"
  elseif self.http10 then
    -- an HTTP/1.0 client that asked for keep-alive is told it got it
    out[#out + 1] = "Connection: keep-alive\r\n"
  end
  out[#out + 1] = "\r\n"
  -- a response to HEAD has the headers of the GET response and no content
  if not bodiless and not self.head then out[#out + 1] = body end
  local ok, err = self.conn:write(table.concat(out))
  if not ok then self.broken = true end
  return ok, err
end

-- Answers a request the server refuses, with Connection: close.
local function refuse(conn, code)
  local res = setmetatable({conn = conn, code = code, headers = {}, close = true}, response)
  return res:send((REASON[code] or "Error") .. "\n")
end

-- Flushes, stops sending, discards what still arrives (bounded), then closes.
local function linger_close(conn)
  local fd = conn.fd
  if fd and conn:shutdown() then
    local dl = time.monotonic() + LINGER_MS
    local total = 0
    while true do
      local n = c.drain(fd)
      if not n then break end
      total = total + n
      if total >= LINGER_BYTES or c.wait(fd, dl) == 0 then break end
    end
  end
  conn:close()
end

-- Serves one connection until the client closes, asks to close, or misbehaves; returns
-- true when the connection must be closed with a lingering close.
local function serve(conn, conf, handler)
  local fd = conn.fd
  conn:settimeout(conf.write_timeout)
  c.attach(fd, conf.max_header_size, conf.max_body_size, conf.header_timeout,
    conf.body_timeout, conf.keepalive_timeout)
  local in_a_row = 0
  while true do
    local kind, method, target, version, headers, body, keepalive = c.request(fd)
    if kind == "wait" then
      in_a_row = 0
      c.wait(fd, method)
    elseif kind == "error" then
      local code = method
      if code == 0 then return false end
      refuse(conn, code)
      return true
    else
      local path, params = split_target(target)
      local req = {method = method, path = path, params = params, headers = headers,
        body = body, target = target, version = version, remoteaddr = conn.remoteaddr}
      local res = setmetatable({conn = conn, code = 200, headers = {}, close = not keepalive,
        http10 = version == "1.0", head = method == "HEAD"}, response)
      local ok, err = xpcall(handler, traceback, req, res)
      if not ok then
        logger.error("http handler error on " .. method .. " " .. target .. ": " .. err)
        if not res.sent then
          res.code, res.headers = 500, {}
          res:send("Internal Server Error")
        end
      elseif not res.sent then
        -- a handler that never sent answers an empty 200 with its status
        res:send("")
      end
      -- the peer is gone or takes nothing: no point reading on
      if res.broken then return false end
      if not keepalive then return true end
      -- a client streaming pipelined requests does not keep the other tasks waiting
      in_a_row = in_a_row + 1
      if in_a_row >= BATCH then
        in_a_row = 0
        time.sleep(0)
      end
    end
  end
end

-- The options of listen, checked, with defaults.
local function options(conf)
  local o = {}
  for k, v in pairs(conf) do
    if k ~= "addr" and k ~= "handler" and DEFAULTS[k] == nil then
      error("bad argument #1 to 'listen' (unknown option '" .. tostring(k) .. "')", 3)
    end
  end
  for k, default in pairs(DEFAULTS) do
    local v = conf[k]
    if v == nil then
      o[k] = default
    else
      local n = math.tointeger(v)
      if not n or n < (k == "max_connections" and 1 or 0) then
        error("bad argument #1 to 'listen' (option '" .. k .. "' must be a "
          .. (k == "max_connections" and "positive" or "non-negative") .. " integer)", 3)
      end
      o[k] = n
    end
  end
  return o
end

--- listen{addr = "ip:port", handler = function(req, res) end, [options]}: the listener
--- (fields addr and close()), or nil, err. Options: see DEFAULTS and spec/http.md.
function M.listen(conf)
  if type(conf) ~= "table" then error("bad argument #1 to 'listen' (table expected)", 2) end
  local handler = conf.handler
  if type(handler) ~= "function" then
    error("bad argument #1 to 'listen' (field 'handler' must be a function)", 2)
  end
  local o = options(conf)
  local active = 0
  return tcp.listen{addr = conf.addr or "127.0.0.1:8080", accept = function(conn)
    conn:settimeout(o.write_timeout)
    if active >= o.max_connections then
      refuse(conn, 503)
      conn:close()
      return
    end
    active = active + 1
    local ok, linger = pcall(serve, conn, o, handler)
    if not ok then
      -- only a bug in this file gets here; the connection is closed all the same
      logger.error("http: " .. describe(linger))
    end
    if ok and linger then
      pcall(linger_close, conn)
    end
    conn:close()
    active = active - 1
  end}
end

return M
