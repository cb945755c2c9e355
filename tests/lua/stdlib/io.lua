-- io library: files, formats, errors as lua5.4 (output deterministic: no addresses).
local function perr(f, ...) print(pcall(f, ...)) end
local name = os.tmpname()

print(io.type(io.stdout), io.type(io.stdin), io.type(42), io.type(nil))
perr(io.type)
print(getmetatable(io.stdout).__name, type(getmetatable(io.stdout).__index))
print(io.open("/nonexistent/x"))
perr(io.open, name, "rw")
perr(io.open, name, "+r")
perr(io.open, name, "")

-- write chains, numbers as %.14g
local f = assert(io.open(name, "w"))
print(f:write("a", 1, " ", 2.5, " ", 1.0, " ", 2^63, " ", -0.0, "\n") == f)
f:write("line2\n", "12.5 0x1F -7 1e2 .5 0x.8p1 nan\n", "last line no newline")
print(f:read("l"))
f:close()
print(io.type(f), tostring(f))
perr(f.write, f, "x")
perr(f.read, f)
perr(f.close, f)
perr(f.lines, f)

-- read formats
f = assert(io.open(name, "r"))
print(f:read("l"))
print(f:read("L"))
print(f:read("n", "n", "n", "n", "n", "n"))
print(f:read("n"))
print(f:read(1), f:read("*l"))
print(f:read(4), f:read(0), f:read("a"))
print(f:read("a"), f:read(0), f:read("l"), f:read(1))
print(f:write("x"))
perr(f.read, f, "x")
perr(f.read, f, {})
print(f:seek("set", 2), f:read(3), f:seek(), f:seek("cur", -1), f:read(1), f:seek("end"))
perr(f.seek, f, "bad")
print(f:seek("set", -1))
f:close()

-- modes
f = assert(io.open(name, "w+")) f:write("hello world") f:seek("set", 6) print(f:read("a")) f:close()
f = assert(io.open(name, "a")) f:write("!!") print(f:read("a")) f:close()
f = assert(io.open(name, "r+")) f:write("J") f:seek("set") print(f:read("a")) f:close()
f = assert(io.open(name, "a+")) f:write("?") f:seek("set") print(f:read("a")) f:close()
f = assert(io.open(name, "rb")) print(f:read(5)) f:close()
f = assert(io.open(name, "wb")) print(f:setvbuf("no"), f:setvbuf("full", 1024), f:setvbuf("line")) f:write("1\n2\n3\n") f:close()
perr(io.stdout.setvbuf, io.stdout, "bad")

-- lines
for l in io.lines(name) do io.write("[", l, "]") end print()
for a, b in io.lines(name, 1, "l") do io.write(a, "|", b, " ") end print()
for n in io.lines(name, "n") do io.write(n, ";") end print()
print(select("#", io.lines(name)))
perr(io.lines, "/nonexistent_x")
f = assert(io.open(name))
for l in f:lines("L") do io.write(l) end
print(io.type(f)) f:close()
local it = io.lines(name)
print(it(), it(), it(), it())
perr(it)
f = assert(io.open(name))
local it2 = f:lines()
f:close()
perr(it2)

-- default input / output
print(io.input() == io.stdin, io.output() == io.stdout)
io.input(name)
print(io.read("l", "n"))
print(io.read("a"))
io.input():close()
perr(io.read)
io.input(io.stdin)
local out2 = os.tmpname()
io.output(out2)
io.write("to file ", 42)
io.output():close()
perr(io.write, "x")
io.output(io.stdout)
for l in io.lines(out2) do print(l) end
perr(io.output, "/nonexistent/dir/x")
perr(io.input, "/nonexistent_x")

-- standard files
print(io.stdout:close())
print(io.close == nil, pcall(io.close, {}))
print(io.stdin:write("x"))
print(io.stdout:read())
print(io.write("ok ") == io.stdout, io.stdout:write("chained ") == io.stdout)
print(io.stdout:flush(), io.flush())

-- tmpfile and to-be-closed files; a failed seek keeps the position
f = io.tmpfile() f:write("abc") f:seek("set") print(f:read("a")) f:close()
f = io.tmpfile() f:write("abcdef") f:seek("set") f:read(2)
print(f:seek("cur", math.mininteger), f:seek("end", math.mininteger), f:read(1))
f:close()
do
  local g <close> = assert(io.open(name))
  print(g:read("l"))
end
-- read("n") on odd numerals, one file each
local cases = {"0x", "  +3 x", "-.5e-3", "1e", "1e+", ".", "0x1p4", "00012", "1.5.5", "--1",
  "0xAbC.8", "1" .. string.rep("0", 250), "\n\t 42\n", "inf", "0x10p", "- 1", "12abc"}
for _, c in ipairs(cases) do
  local g = assert(io.open(name, "w")) g:write(c) g:close()
  g = assert(io.open(name))
  local n = g:read("n")
  print(string.format("%q", c:sub(1, 12)), n, math.type(n), string.format("%q", g:read("a"):sub(1, 12)))
  g:close()
end

-- an unreachable file is closed (and flushed) by the collector
do local g = assert(io.open(name, "w")) g:write("written by gc") end
collectgarbage() collectgarbage()
print(io.open(name):read("a"))
-- a to-be-closed iterator file is closed when the loop breaks
for l in io.lines(name) do break end
-- popen
local p = assert(io.popen("echo hi; echo there"))
print(io.type(p), p:read("l"), p:read("a"))
print(p:close())
print(io.popen("exit 3"):close())
p = assert(io.popen("cat > " .. name, "w"))
p:write("via pipe") print(p:close())
print(io.open(name):read("a"))
print(pcall(io.popen, "true", "rw"))
os.remove(name) os.remove(out2)
print("io done")
