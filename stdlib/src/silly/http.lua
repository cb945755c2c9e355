-- The Lua half of silly.net.http (see http.rs and spec/http.md): one task per connection,
-- requests served in order (keep-alive); nothing a client sends or a handler does may stop
-- the listener.
local c = ...
local tcp = require "silly.net.tcp"
local logger = require "silly.logger"

local M = {}

-- Longest request head and chunk-size line accepted.
local MAX_HEAD = 64 * 1024
-- Largest request body accepted.
local MAX_BODY = 16 * 1024 * 1024

local REASON = {
  [200] = "OK", [201] = "Created", [204] = "No Content", [301] = "Moved Permanently",
  [302] = "Found", [304] = "Not Modified", [400] = "Bad Request", [401] = "Unauthorized",
  [403] = "Forbidden", [404] = "Not Found", [405] = "Method Not Allowed",
  [413] = "Payload Too Large", [500] = "Internal Server Error", [501] = "Not Implemented",
  [503] = "Service Unavailable",
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

local response = {}
response.__index = response

function response:status(code)
  self.code = math.tointeger(code) or error("bad argument #1 to 'status' (integer expected)", 2)
  return self
end

function response:header(name, value)
  self.headers[#self.headers + 1] = {tostring(name), tostring(value)}
  return self
end

function response:send(body)
  if self.sent then return nil, "response already sent" end
  self.sent = true
  body = body == nil and "" or tostring(body)
  local out = {string.format("HTTP/1.1 %d %s\r\n", self.code, REASON[self.code] or "Unknown")}
  local has_type = false
  for _, h in ipairs(self.headers) do
    local n = h[1]:lower()
    if n ~= "content-length" and n ~= "connection" then
      if n == "content-type" then has_type = true end
      out[#out + 1] = h[1] .. ": " .. h[2] .. "\r\n"
    end
  end
  if not has_type then out[#out + 1] = "Content-Type: text/plain; charset=utf-8\r\n" end
  out[#out + 1] = "Content-Length: " .. #body .. "\r\n"
  if self.close then out[#out + 1] = "Connection: close\r\n" end
  out[#out + 1] = "\r\n"
  out[#out + 1] = body
  return self.conn:write(table.concat(out))
end

local function simple(conn, code, msg, close)
  local res = setmetatable({conn = conn, code = code, headers = {}, close = close}, response)
  return res:send(msg)
end

-- The body of a chunked request, or nil, err.
local function read_chunked(conn)
  local parts, total = {}, 0
  while true do
    local line, err = conn:read("\r\n", MAX_HEAD)
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size" end
    if size == 0 then break end
    total = total + size
    if total > MAX_BODY then return nil, "body too large" end
    local d, e = conn:read(size)
    if not d then return nil, e end
    parts[#parts + 1] = d
    local crlf = conn:read(2)
    if crlf ~= "\r\n" then return nil, "bad chunk" end
  end
  -- trailers, up to the empty line
  while true do
    local line, err = conn:read("\r\n", MAX_HEAD)
    if not line then return nil, err end
    if line == "" then break end
  end
  return table.concat(parts)
end

-- Serves one connection until the client closes, asks to close, or misbehaves.
local function serve(conn, handler)
  while true do
    local head, herr = conn:read("\r\n\r\n", MAX_HEAD)
    if not head then
      if herr == "line too long" then simple(conn, 400, "Bad Request", true) end
      break
    end
    -- read(delim, max) may return more than max when it all came at once
    local method, target, headers
    if #head <= MAX_HEAD then method, target, headers = c.parse(head .. "\r\n\r\n") end
    if not method then
      simple(conn, 400, "Bad Request", true)
      break
    end
    local body, berr = ""
    local te = headers["transfer-encoding"]
    if te and te:lower():find("chunked", 1, true) then
      body, berr = read_chunked(conn)
    elseif headers["content-length"] then
      local n = math.tointeger(tonumber(headers["content-length"]))
      if not n or n < 0 then
        body, berr = nil, "bad content-length"
      elseif n > MAX_BODY then
        body, berr = nil, "body too large"
      elseif n > 0 then
        body, berr = conn:read(n)
      end
    end
    if not body then
      if berr ~= "closed" then simple(conn, 400, "Bad Request", true) end
      break
    end
    local conn_hdr = (headers["connection"] or ""):lower()
    local close = conn_hdr:find("close", 1, true) ~= nil
      or (head:match("^[^\r\n]*HTTP/1%.0") ~= nil and not conn_hdr:find("keep-alive", 1, true))
    local path, params = split_target(target)
    local req = {method = method, path = path, params = params, headers = headers,
      body = body, target = target, remoteaddr = conn.remoteaddr}
    local res = setmetatable({conn = conn, code = 200, headers = {}, close = close}, response)
    local ok, err = xpcall(handler, debug.traceback, req, res)
    if not ok then
      logger.error("http handler error on " .. method .. " " .. target .. ": " .. tostring(err))
      if not res.sent then
        res.code, res.headers = 500, {}
        res:send("Internal Server Error")
      end
    elseif not res.sent then
      -- a handler that never sent answers an empty 200 with its status
      res:send("")
    end
    if close then break end
  end
  conn:close()
end

--- listen{addr = "ip:port", handler = function(req, res) end}: the listener (fields addr
--- and close()), or nil, err.
function M.listen(conf)
  if type(conf) ~= "table" then error("bad argument #1 to 'listen' (table expected)", 2) end
  local handler = conf.handler
  if type(handler) ~= "function" then
    error("bad argument #1 to 'listen' (field 'handler' must be a function)", 2)
  end
  return tcp.listen{addr = conf.addr or "127.0.0.1:8080", accept = function(conn)
    serve(conn, handler)
  end}
end

return M
