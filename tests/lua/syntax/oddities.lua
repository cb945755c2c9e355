-- Odd but valid Lua: comments everywhere, every numeral form, nested long brackets,
-- call sugar chains, and (below) lines ending in CRLF, CR and LF CR.
local t = { --[[ a comment inside a constructor ]] 1 ; 2 , --[==[ a ]] b ]==] 3 ; }
print(#t, t[1]+t[2]+t[3])
print(0xA, 0Xa, 0x.1, 0x1P4, 1E2, .5, 5., 3e-2, 0x7fffffffffffffff, 0xffffffffffffffff)
print(1//1, 1.0//1, 7 % -3, -7 % 3, 2^2, 10 // 0.0, -10 // 0.0)
print([==[
first newline skipped]==], [[]], [=[]]]=], "\65\066\x43\u{44}\z
       E", '\'', "\"", '\\')
local s = ("x"):rep(3):upper() print(s)local obj = { f = function(self, ...) return select("#", ...) end }
print(obj:f(), obj:f(nil), obj:f{}, obj:f"", obj:f[[ ]])
local function id(...) return ... end
print((id(1, 2)), id(1, 2))
do local a <const> = 10; local b <close> = nil; print(a, b) end
goto skip
print("never")
::skip:: ;
local i = 0 repeat i = i + 1 until i >= 3 print(i)
for k = 3, 1, -1 do io.write(k, " ") end print()
local x = 1 ; (print)("paren call after a literal")
local y = print
;(y)("paren call after a semicolon")
print(not nil, not not nil, - - 2, ~ ~ 5, # "abc")
print(1 < 2, "a" < "b", 1 == 1.0, "1" == 1, 2^-1, -2^2)
print(("%d-%s"):format(5, "x"), #{n = 1}, select(-1, 1, 2, 3))
