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

-- Default budget of an inject, reload, rollback or commit (ms), and how long a prepared
-- patch waits for its commit (ms).
local DEADLINE = 5000
local PREPARE_TTL = 60000

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
  {"modules", "loaded modules and their versions"},
  {"versions [mod]", "every version of the modules"},
  {"plan mod...", "what a reload would do (changes nothing)"},
  {"reload mod...", "patch the modules from their files"},
  {"rollback mod", "put the previous version back"},
  {"census [mod]", "old versions still running"},
  {"prepare mod...", "compile and plan a patch to commit later"},
  {"commit id | abort id", "apply or drop a prepared patch"},
  {"log", "the patch log"},
  {"quit | exit", "close this connection"},
}

-- Runs a hotfix file under a deadline; its print/logger output is collected. Returns the
-- error text (nil on success) and the output.
local function inject(path, deadline)
  local regular, why = c.regular_file(path)
  if not regular then return why, "" end
  local env = setmetatable({}, {__index = _G})
  local f, err = loadfile(path, "bt", env)
  if not f then return err, "" end
  c.capture_begin()
  local ok, e = c.pcall_deadline(deadline, f)
  local out = c.capture_end()
  if not ok then
    local okm, m = pcall(tostring, e)
    return okm and m or "(error object is not a string)", out
  end
  return nil, out
end

-- One line of key=value fields; values lose their white space.
local function kv(pairs_)
  local out = {}
  for _, p in ipairs(pairs_) do
    local v = tostring(p[2]):gsub("[%s]+", "_")
    if v == "" then v = "-" end
    out[#out + 1] = p[1] .. "=" .. v
  end
  return table.concat(out, " ")
end

local function list(t)
  if not t or #t == 0 then return "-" end
  return table.concat(t, ",")
end

-- "ERR step=... module=... error=<to the end of the line>".
local function patch_error(r)
  local msg = tostring(r.error or "failed"):gsub("[\r\n]+", " | ")
  return "ERR " .. kv({{"step", r.step or "-"}, {"module", r.module or "-"}}) .. " error=" .. msg
end

-- A report as "OK epoch=N modules=K", one line per module, and ".".
local function report_lines(r, extra)
  local names = {}
  for name in pairs(r.modules or {}) do names[#names + 1] = name end
  table.sort(names)
  local head = {{"epoch", r.epoch or 0}, {"modules", #names}}
  for _, p in ipairs(extra or {}) do head[#head + 1] = p end
  local out = {"OK " .. kv(head)}
  for _, name in ipairs(names) do
    local m = r.modules[name]
    out[#out + 1] = name .. " " .. kv({
      {"from", m.from}, {"to", m.to}, {"hash", m.hash},
      {"changed", list(m.changed)}, {"moved", list(m.moved)},
      {"added", list(m.added)}, {"removed", list(m.removed)},
      {"state_kept", list(m.upvalues.kept)}, {"state_new", list(m.upvalues.new)},
      {"fields_added", list(m.fields.added)}, {"closures", m.closures},
      {"frames", #m.frames},
    })
  end
  out[#out + 1] = "."
  return table.concat(out, "\n")
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
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
  local deadline = conf.deadline or DEADLINE
  if math.type(deadline) ~= "integer" or deadline < 1 then
    error("silly.console: 'deadline' must be a positive integer (milliseconds)", 2)
  end
  local prepare_ttl = conf.prepare_ttl or PREPARE_TTL
  if math.type(prepare_ttl) ~= "integer" or prepare_ttl < 1 then
    error("silly.console: 'prepare_ttl' must be a positive integer (milliseconds)", 2)
  end
  local reload = require "hotlua.reload"
  local logger = require "silly.logger"
  -- Prepared patches by id: {mods, sources = {name -> {source, chunkname, path}},
  -- versions = {name -> n}, expires}.
  local prepared, next_id = {}, 0
  local cmd = conf.cmd or {}
  local extra = {}
  for name, fn in pairs(cmd) do
    if type(name) == "string" and type(fn) == "function" then extra[name:lower()] = fn end
  end

  local handlers = {}
  function handlers.help()
    local out = {"Commands:"}
    for _, h in ipairs(builtin_help) do out[#out + 1] = string.format("  %-20s %s", h[1], h[2]) end
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
    local err, out = inject(path, deadline)
    return out .. "Inject file:" .. path .. " " .. (err or "Success")
  end

  local function current_versions()
    local v = {}
    for _, m in ipairs(reload.modules()) do v[m.name] = m.version end
    return v
  end
  function handlers.modules()
    local ms = reload.modules()
    local out = {"OK " .. kv({{"count", #ms}})}
    for _, m in ipairs(ms) do
      local vs = reload.versions(m.name) or {}
      out[#out + 1] = m.name .. " " .. kv({{"version", m.version}, {"versions", #vs}})
    end
    out[#out + 1] = "."
    return table.concat(out, "\n")
  end
  function handlers.versions(args)
    local names = {}
    if args[1] then
      names = args
    else
      for _, m in ipairs(reload.modules()) do names[#names + 1] = m.name end
    end
    local lines = {}
    for _, name in ipairs(names) do
      local vs, err = reload.versions(name)
      if not vs then return "ERR " .. err end
      for _, v in ipairs(vs) do
        lines[#lines + 1] = name .. " " .. kv({{"version", v.version}, {"hash", v.hash},
          {"time", string.format("%.3f", v.time)}, {"current", v.current},
          {"rolled_back", v.rolled_back}})
      end
    end
    table.insert(lines, 1, "OK " .. kv({{"count", #lines}}))
    lines[#lines + 1] = "."
    return table.concat(lines, "\n")
  end
  function handlers.plan(args)
    if not args[1] then return "ERR usage: plan mod..." end
    local r = reload.plan(args)
    if not r.ok then return patch_error(r) end
    return report_lines(r)
  end
  local who_of = {}
  -- After a patch: each replaced version is logged as drained once no frame runs it.
  local function watch_drain(r)
    for name, m in pairs(r.modules or {}) do
      local from = m.from
      task.fork(function()
        while true do
          local running = 0
          for _, e in ipairs(reload.census(name)) do
            if e.version == from then running = #e.frames end
          end
          if running == 0 then
            logger.info(string.format("module %s v%d drained: no frame runs it", name, from))
            return
          end
          time.sleep(100)
        end
      end)
    end
  end
  function handlers.reload(args, conn)
    if not args[1] then return "ERR usage: reload mod..." end
    local ok, r = reload.apply(args, {deadline = deadline, who = who_of[conn]})
    if not ok then return patch_error(r) end
    watch_drain(r)
    return report_lines(r)
  end
  function handlers.rollback(args, conn)
    if not args[1] or args[2] then return "ERR usage: rollback mod" end
    local ok, r = reload.rollback(args[1], {deadline = deadline, who = who_of[conn]})
    if not ok then return patch_error(r) end
    watch_drain(r)
    return report_lines(r)
  end
  function handlers.census(args)
    local list_ = reload.census(args[1])
    local out = {"OK " .. kv({{"count", #list_}})}
    for _, e in ipairs(list_) do
      local threads = {}
      for _, f in ipairs(e.frames) do
        threads[#threads + 1] = (f.main and "main" or "task") .. ":" .. f["function"]
      end
      for _, h in ipairs(e.holders) do threads[#threads + 1] = h end
      out[#out + 1] = e.module .. " " .. kv({{"version", e.version}, {"frames", #e.frames},
        {"closures", e.closures}, {"bytes", e.bytes}, {"held_by", list(threads)}})
      for _, f in ipairs(e.frames) do
        for l in f.traceback:gmatch("[^\n]+") do out[#out + 1] = "  " .. l end
      end
    end
    out[#out + 1] = "."
    return table.concat(out, "\n")
  end
  local function expire()
    local now = time.monotonic()
    for id, p in pairs(prepared) do
      if p.expires <= now then prepared[id] = nil end
    end
  end
  function handlers.prepare(args, conn)
    if not args[1] then return "ERR usage: prepare mod..." end
    expire()
    local sources, names = {}, {}
    for _, name in ipairs(args) do
      local path, err = package.searchpath(name, package.path)
      if not path then
        return "ERR " .. kv({{"step", "load"}, {"module", name}}) .. " error=module not found"
      end
      local src = read_file(path)
      if not src then
        return "ERR " .. kv({{"step", "load"}, {"module", name}}) .. " error=cannot read " .. path
      end
      sources[name] = {source = src, chunkname = "@" .. path, path = path}
      names[#names + 1] = name
    end
    local given = {}
    for name, s in pairs(sources) do given[name] = {source = s.source, chunkname = s.chunkname} end
    local r = reload.plan(given)
    if not r.ok then return patch_error(r) end
    next_id = next_id + 1
    local id = string.format("p%d-%d", c.pid(), next_id)
    prepared[id] = {names = names, sources = sources, given = given,
      versions = current_versions(), expires = time.monotonic() + prepare_ttl}
    local hashes = {}
    for _, name in ipairs(names) do
      hashes[#hashes + 1] = name .. ":" .. r.modules[name].hash
    end
    return "OK " .. kv({{"id", id}, {"modules", list(names)}, {"hashes", list(hashes)},
      {"expires_ms", prepare_ttl}})
  end
  function handlers.commit(args, conn)
    local id = args[1]
    if not id then return "ERR usage: commit id" end
    expire()
    local p = prepared[id]
    if not p then return "ERR " .. kv({{"id", id}}) .. " error=unknown or expired" end
    prepared[id] = nil
    local now = current_versions()
    for _, name in ipairs(p.names) do
      if now[name] ~= p.versions[name] then
        return "ERR changed " .. kv({{"id", id}, {"module", name}}) .. " error=module version changed"
      end
      if read_file(p.sources[name].path) ~= p.sources[name].source then
        return "ERR changed " .. kv({{"id", id}, {"module", name}}) .. " error=source file changed"
      end
    end
    local ok, r = reload.apply(p.given, {deadline = deadline, who = who_of[conn]})
    if not ok then return patch_error(r) end
    watch_drain(r)
    return report_lines(r, {{"id", id}})
  end
  function handlers.abort(args)
    local id = args[1]
    if not id then return "ERR usage: abort id" end
    expire()
    if not prepared[id] then return "ERR " .. kv({{"id", id}}) .. " error=unknown or expired" end
    prepared[id] = nil
    return "OK " .. kv({{"id", id}})
  end
  function handlers.log()
    local entries = reload.log()
    local out = {"OK " .. kv({{"count", #entries}})}
    for _, e in ipairs(entries) do
      out[#out + 1] = tostring(e.seq) .. " " .. kv({{"time", string.format("%.3f", e.time)},
        {"action", e.action}, {"module", e.module}, {"from", e.from}, {"to", e.to},
        {"hash", e.hash}, {"ok", e.ok}, {"who", e.who}})
        .. (e.error and (" error=" .. e.error:gsub("[\r\n]+", " | ")) or "")
    end
    out[#out + 1] = "."
    return table.concat(out, "\n")
  end

  local function serve(conn)
    who_of[conn] = "console:" .. tostring(conn.remoteaddr)
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
          local ok, r = pcall(handlers[name], args, conn)
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
    who_of[conn] = nil
    conn:close()
  end

  local l, err = tcp.listen{addr = addr, accept = serve}
  if not l then error("silly.console: cannot listen on " .. addr .. ": " .. tostring(err), 2) end
  return l
end

return setmetatable({start = start}, {__call = function(_, conf) return start(conf) end})
