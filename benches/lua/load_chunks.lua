-- Compiling many small chunks with `load`: the front end and code generator's cost per
-- statement (every hot reload compiles source). Prints a checksum of what the chunks compute.
local n = tonumber(arg and arg[1]) or 30000
local parts = { "local x, t = ...\n" }
for i = 1, 40 do
  parts[#parts + 1] = ("x = x + %d\nt[%d] = x * 2 - (x // 3)\n"):format(i, i)
end
parts[#parts + 1] = "local function f(a, b) if a > b then return a - b else return b - a end end\n"
parts[#parts + 1] = "for i = 1, #t do x = x + f(t[i], i) end\nreturn x\n"
local src = table.concat(parts)
local sum = 0
for i = 1, n do
  local chunk = assert(load(src, "=chunk"))
  if i % 100 == 0 then sum = sum + chunk(i, {}) end
end
print(#src, sum)
