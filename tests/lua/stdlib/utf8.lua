-- utf8 library: results and error messages as lua5.4.
local function perr(f, ...)
  local ok, e = pcall(f, ...)
  print(ok, e)
end

print(utf8.codepoint(utf8.char(72, 0x4e2d, 0x7FFFFFFF), 1, -1, true))
print(#utf8.char(72, 0x4e2d, 0x7FFFFFFF), #utf8.char(0x7FF, 0x800, 0xFFFF, 0x10000))
print(utf8.char() == "", utf8.char(0) == "\0")
perr(utf8.char, -1)
perr(utf8.char, 0x80000000)
perr(utf8.char, "x")
print(utf8.charpattern == "[\0-\x7F\xC2-\xFD][\x80-\xBF]*")

-- len
print(utf8.len("\xe4\xb8\xad"), utf8.len(""), utf8.len("abc", 4), utf8.len("abc", -1))
print(utf8.len("abc\xff"))
print(utf8.len("a\u{D800}b"))
print(utf8.len("a\u{D800}b", 1, -1, true))
print(utf8.len("\xe4\xb8\xad", 2))
perr(utf8.len, "abc", 5)
perr(utf8.len, "abc", 1, 4)
perr(utf8.len, "abc", 0)

-- codepoint
print(utf8.codepoint("h\u{4e2d}llo", 1, -1))
print(utf8.codepoint("abc", 3, 2))
print(utf8.codepoint("\u{7FFFFFFF}", 1, 1, true))
perr(utf8.codepoint, "\u{7FFFFFFF}")
perr(utf8.codepoint, "abc", 0)
perr(utf8.codepoint, "abc", 1, 4)
perr(utf8.codepoint, "\xff")
print(select("#", utf8.codepoint("", 1, 0)))

-- offset
local s = "a\u{4e2d}b\u{10348}"
for n = -4, 5 do print(n, utf8.offset(s, n)) end
print(utf8.offset(s, 0, 3), utf8.offset(s, 0, 2), utf8.offset(s, 1, 5))
perr(utf8.offset, s, 1, 3)
perr(utf8.offset, s, 1, 20)
print(utf8.offset("", 1), utf8.offset("", -1), utf8.offset("abc", 4))

-- codes
for p, c in utf8.codes(s) do io.write(p, ":", c, " ") end print()
for p, c in utf8.codes("a\x80") do io.write(p, ":", c, " ") end print()
for p, c in utf8.codes("\u{D800}", true) do print(p, c) end
print(pcall(function() for p, c in utf8.codes("ab\xff") do end end))
print(pcall(function() for p, c in utf8.codes("\u{D800}") do end end))
local n = 0
for _ in utf8.codes("") do n = n + 1 end
print(n)

-- charpattern matches each sequence
local parts = {}
for ch in ("x\u{4e2d}y\u{10348}"):gmatch(utf8.charpattern) do parts[#parts + 1] = #ch end
print(table.concat(parts, ","))
print(utf8.char(72, 0x4e2d, 0x7FFFFFFF):byte(1, -1))
print("utf8 done")
