-- string.dump and binary chunks: what a script can see (the same under lua5.4, whose
-- format differs: nothing here prints a chunk's bytes or size).

local function show(...) print(select('#', ...), ...) end

-- dump and load round trips
local function add(a, b) return a + b, "s\0\255", 1.5, 2^53, -0.0, math.mininteger end
local d = string.dump(add)
print(type(d), d:sub(1, 4) == "\27Lua", d:byte(5), d:byte(6))
show(load(d)(3, 4))
show(load(d, "name", "b")(1, 2))
show(load(string.dump(add, true))(10, 20))
print(string.dump(add) == d, string.dump(load(d)) == d)

-- nested functions, varargs, closures made by the loaded code
local nest = string.dump(function(x)
  return function(y, ...)
    local n = select('#', ...)
    return function(z) return x + y + z + n end
  end
end)
print(load(nest)(1)(2, 'a', 'b')(3))

-- upvalues come back fresh: the first gets the environment, the others nil
local u1, u2 = 10, 20
local function up() return u1, u2 end
local f = load(string.dump(up))
print(f() == _G, select(2, f()))
print(debug.getupvalue(f, 1), debug.getupvalue(f, 2) == "u2")
debug.setupvalue(f, 1, 5); debug.setupvalue(f, 2, 6)
print(f())
local env = {}
f = load(string.dump(function() x = 1 return x end), "c", "b", env)
print(f(), env.x, rawget(_G, "x"))
f = load(string.dump(up), "c", "b", nil)
print(f())

-- modes
print(load(d, "c", "t"))
print(load("return 1", "c", "b"))
print(load(d, "c", ""))
print(load("return 1", "c", ""))
print(load(d, "c", "bt") ~= nil, load("return 2", "c", "tb")())

-- truncated and foreign chunks; error names as lundump.c builds them
print(load(d:sub(1, 10)))
print(load(d:sub(1, 20), "=stdin"))
print(load(d:sub(1, 40), "@file.lua"))
print(load(d:sub(1, #d - 1), "plain"))
print(load("\27Lu"))
print(load("\27Lux\84"))
print(load("\27Lua\83"))
print(load("\27Lua\84\1"))
print(load("\27Lua\84\0\25\147\r\n\26\0"))
print(load("\27Lua\84\0\25\147\r\n\26\n\8"))
print(load("\27Lua\84\0\25\147\r\n\26\n\4\4"))
print(load("\27Lua\84\0\25\147\r\n\26\n\4\8\4"))
print(load("\27Lua\84\0\25\147\r\n\26\n\4\8\8" .. string.pack("<i8", 0x1234)))
print(load("\27Lua\84\0\25\147\r\n\26\n\4\8\8" .. string.pack("<i8d", 0x5678, 1.5)))
local bad = 0
for i = 1, #d - 1 do
  local f, m = load(d:sub(1, i))
  if f or not m:find("truncated", 1, true) then bad = bad + 1 end
end
print("truncations not refused:", bad)

-- string.dump's own errors
print(pcall(string.dump, print))
print(pcall(string.dump, {}))
print(pcall(string.dump))

-- stripped functions: no names, no lines, source "=?"
local s = load(string.dump(function(t) local v = t.x.y return v end, true))
print(pcall(s, {}))
print(pcall(load(string.dump(function() return undefinedglobal.y end, true))))
print(pcall(load(string.dump(function() local x <close> = 1 end, true))))
print(pcall(load(string.dump(function() error("plain") end, true))))
print(pcall(load(string.dump(function() error("lvl2", 2) end, true))))
local info = debug.getinfo(s, "S")
print(info.source, info.short_src, info.what, info.linedefined > 0)
local g = load(string.dump(function() return u1 end, true))
print(debug.getupvalue(g, 1) == "(no name)", debug.setupvalue(g, 1, 3), g())
local co = coroutine.create(load(string.dump(function(a)
  local b = a * 2
  coroutine.yield(b)
end, true)))
print(coroutine.resume(co, 21))
print(debug.getlocal(co, 1, 1), debug.getlocal(co, 1, 2))
print((debug.traceback(co):gsub("<%?:%d+>", "<?:N>")))
print(debug.getinfo(co, 1, "l").currentline)
local lines = {}
debug.sethook(function(e, l) lines[#lines + 1] = tostring(l) end, "l")
load(string.dump(function() local a = 1 local b = 2 return a + b end, true))()
debug.sethook()
print(table.concat(lines, " "))
print(next(debug.getinfo(s, "L").activelines))

-- unstripped dumps keep names and lines
local k = load(string.dump(function(t) local v = t.x.y return v end))
print((select(2, pcall(k, {})):gsub("^[^:]*:", "")))
print(debug.getlocal(k, 1))

-- loadfile and dofile with binary files, a first comment line, modes
local name = os.tmpname()
local function write(s) local h = io.open(name, "wb") h:write(s) h:close() end
write(string.dump(function() return 10, "\0x" end))
print(loadfile(name)())
print(loadfile(name, "b")())
print(loadfile(name, "t"))
print(dofile(name))
write("#!comment line\n" .. string.dump(function() return 20 end))
print(loadfile(name)())
write("return 30")
print(loadfile(name, "b"))
print(loadfile(name, "t")())
write("\27 return 10")
print(loadfile(name, "t"))
write(d:sub(1, 30))
print((select(2, loadfile(name)):gsub("^.*: bad", "bad")))
os.remove(name)
print(loadfile(name, "b") == nil)

-- a reader function: pieces, errors
local pieces = {d:sub(1, 7), d:sub(8, 31), d:sub(32)}
local i = 0
f = load(function() i = i + 1 return pieces[i] end, "r", "b")
show(f(2, 3))
local r1, r2 = load(function() error("reader broke") end)
print(r1, (r2:match("^[^\n]*")))
r1, r2 = load(function() return {} end)
print(r1, (r2:match("^[^\n]*")))
