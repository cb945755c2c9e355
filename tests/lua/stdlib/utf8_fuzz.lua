-- Random byte strings (fixed seed) through every utf8 function, strict and lax.
local seed = 777
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end
local pool = {0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xF8, 0xFC, 0xFD, 0xFE, 0xFF, 0xA0, 0x90}
local out = {}
local function rec(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end out[#out + 1] = table.concat(t, " ") end
for iter = 1, 400 do
  local bytes = {}
  for i = 1, rnd(9) do bytes[i] = pool[rnd(#pool) + 1] end
  local s = string.char(table.unpack(bytes))
  local lax = rnd(2) == 0
  local n = #s
  local i, j = rnd(n + 3) - 1, rnd(n + 3) - 1
  rec(iter, pcall(utf8.len, s, i, j, lax))
  rec(pcall(utf8.codepoint, s, i, j, lax))
  rec(pcall(utf8.offset, s, rnd(7) - 3, i))
  rec(pcall(function() local r = {} for p, c in utf8.codes(s, lax) do r[#r + 1] = p .. ":" .. c end return table.concat(r, ",") end))
  rec(pcall(utf8.char, rnd(0x110000), rnd(0x7FFFFFFF)))
end
print(table.concat(out, "\n"))
print("utf8_fuzz done")
