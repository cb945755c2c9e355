-- The Lua half of silly.console (see console.rs and spec/console.md). One task per
-- operator; nothing an operator sends (or a failing inject) may stop the listener.
local c = ...
local tcp = require "silly.net.tcp"
local task = require "silly.task"
local time = require "silly.time"

-- Longest accepted command line (without its "\n" or "\r\n"); a longer one is answered
-- with an error and closed, however its bytes arrive.
local MAX_LINE = 64 * 1024
local PROMPT = "console> "

-- A token is at least this long, without white space or control characters.
local MIN_TOKEN = 8
-- A failed `auth` is answered after this pause (so at most about 3 guesses a second on a
-- connection), and the connection is closed after this many failures.
local AUTH_DELAY = 300
local MAX_AUTH_FAILURES = 5

local started = time.monotonic()

local function is_loopback(addr)
  local host = addr:match("^%[(.*)%]:%d+$") or addr:match("^(.*):%d+$") or addr
  host = host:lower()
  return host == "localhost" or host == "::1" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

local function words(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = w end
  return t
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local builtin_help = {
  {"help", "this list"},
  {"ping [word]", "PONG, or the word"},
  {"gc", "memory in use (KB)"},
  {"info", "uptime, memory, tasks, timers, loaded modules"},
  {"task", "every task with its status and traceback"},
  {"inject <path>", "run a Lua file (a hotfix) in a fresh environment over the globals"},
  {"quit | exit", "close this connection"},
}

local function inject(path)
  local env = setmetatable({}, {__index = _G})
  local f, err = loadfile(path, "bt", env)
  if not f then return err end
  local ok, e = pcall(f)
  if not ok then return tostring(e) end
  return nil
end

local function start(conf)
  if type(conf) ~= "table" then error("bad argument #1 to 'console' (table expected)", 2) end
  local addr = conf.addr or "127.0.0.1:2345"
  local token = conf.token
  if token ~= nil then
    if type(token) ~= "string" then
      error("silly.console: 'token' must be a string", 2)
    end
    -- `auth <token>` is split into words: a token with white space could never match
    if token:find("[%s%c]") then
      error("silly.console: the token must not contain white space or control characters", 2)
    end
    if #token < MIN_TOKEN then
      error("silly.console: the token is too short (" .. #token .. " bytes, at least "
        .. MIN_TOKEN .. ")", 2)
    end
  end
  if not is_loopback(addr) and not (conf.allow_remote == true and token) then
    error("silly.console: a non-loopback address (" .. addr
      .. ") needs allow_remote = true and a token", 2)
  end
  local cmd = conf.cmd or {}
  local extra = {}
  for name, fn in pairs(cmd) do
    if type(name) == "string" and type(fn) == "function" then extra[name:lower()] = fn end
  end

  local handlers = {}
  function handlers.help()
    local out = {"Commands:"}
    for _, h in ipairs(builtin_help) do out[#out + 1] = string.format("  %-14s %s", h[1], h[2]) end
    local names = {}
    for name in pairs(extra) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do out[#out + 1] = "  " .. name end
    return table.concat(out, "\n")
  end
  function handlers.ping(args) return args[1] or "PONG" end
  function handlers.gc()
    return string.format("%.2f KB", collectgarbage("count"))
  end
  function handlers.info()
    local mods = {}
    for name in pairs(package.loaded) do mods[#mods + 1] = tostring(name) end
    table.sort(mods)
    return table.concat({
      string.format("uptime: %.3f s", (time.monotonic() - started) / 1000),
      string.format("memory: %.2f KB", collectgarbage("count")),
      "tasks: " .. count(task.inspect()),
      "timers: " .. c.timercount(),
      "modules: " .. table.concat(mods, " "),
    }, "\n")
  end
  function handlers.task()
    local out = {}
    local all = task.inspect()
    out[1] = "tasks: " .. count(all)
    for co, t in pairs(all) do
      out[#out + 1] = string.format("%s %s\n%s", tostring(co), t.status, t.traceback)
    end
    return table.concat(out, "\n")
  end
  function handlers.inject(args)
    local path = args[1]
    if not path then return "ERR usage: inject <path>" end
    local err = inject(path)
    return "Inject file:" .. path .. " " .. (err or "Success")
  end

  local function serve(conn)
    local authed = token == nil
    local failures = 0
    conn:write("Welcome to the hotlua console (pid " .. c.pid() .. "). Type 'help' for commands.\n")
    if not authed then conn:write("Authenticate with: auth <token>\n") end
    conn:write(PROMPT)
    while true do
      -- one byte more than the limit: room for the "\r" of a "\r\n" ending
      local line, err = conn:read("\n", MAX_LINE + 1)
      if line then
        line = line:gsub("\r$", "")
        if #line > MAX_LINE then line, err = nil, "line too long" end
      end
      if not line then
        if err == "line too long" then conn:write("ERR line too long\n") end
        break
      end
      local args = words(line)
      local word = table.remove(args, 1)
      local reply
      if not word then
        reply = nil
      else
        local name = word:lower()
        if not authed then
          if name == "auth" and c.same(args[1] or "", token) and not args[2] then
            authed = true
            reply = "OK"
          elseif name == "auth" then
            failures = failures + 1
            time.sleep(AUTH_DELAY)
            if failures >= MAX_AUTH_FAILURES then
              conn:write("ERR too many authentication failures\n")
              break
            end
            reply = "ERR authentication failed"
          elseif name == "quit" or name == "exit" then
            break
          else
            reply = "ERR authentication required"
          end
        elseif name == "quit" or name == "exit" then
          conn:write("Bye\n")
          break
        elseif name == "auth" then
          reply = "OK"
        elseif handlers[name] then
          local ok, r = pcall(handlers[name], args)
          reply = ok and r or ("ERR " .. tostring(r))
        elseif extra[name] then
          local ok, r = pcall(extra[name], table.unpack(args))
          if ok then
            reply = r ~= nil and tostring(r) or ""
          else
            reply = "ERR " .. tostring(r)
          end
        else
          reply = "ERR unknown command '" .. word .. "'"
        end
      end
      if reply and reply ~= "" then
        if not conn:write(reply .. "\n") then break end
      end
      if not conn:write(PROMPT) then break end
    end
    conn:close()
  end

  local l, err = tcp.listen{addr = addr, accept = serve}
  if not l then error("silly.console: cannot listen on " .. addr .. ": " .. tostring(err), 2) end
  return l
end

return setmetatable({start = start}, {__call = function(_, conf) return start(conf) end})
