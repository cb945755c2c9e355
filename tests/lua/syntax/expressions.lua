-- Operator precedence and associativity, checked against the values lua5.4 computes.
local function check(name, got, want)
  if got ~= want then error(name .. ": got " .. tostring(got) .. ", want " .. tostring(want)) end
  print(name, got)
end

check("mul over add", 1 + 2 * 3, 7)
check("left sub", 10 - 3 - 2, 5)
check("right pow", 2 ^ 3 ^ 2, 512.0)
check("unary under pow", -2 ^ 2, -4.0)
check("pow of unary", 2 ^ -1, 0.5)
check("concat right", "a" .. "b" .. "c", "abc")
check("concat vs add", "n" .. 1 + 2, "n3")
check("int div and mod", 7 // 2 + 7 % 3, 4)
check("float div", 7 / 2, 3.5)
check("bitwise", 5 & 3 | 8 ~ 1, 9)
check("shifts", 1 << 4 >> 2, 4)
check("bnot", ~0, -1)
check("comparison chain", 1 < 2 == true, true)
check("not binds tight", not nil == true, true)
check("and or", nil and 1 or 2, 2)
check("or and", false or 3 and 4, 4)
check("length", #"abc" + #{ 1, 2 }, 5)
check("hex", 0xff + 0x1p4, 271.0)
check("hex float", 0x.8 + 0xA.8p0, 11.0)
check("wrap", 0xffffffffffffffff, -1)
check("big decimal", math.type(9223372036854775808), "float")
check("exp", 1e2 + 2.5E-1, 100.25)
check("strings", "tab\tnew\\" .. '\65\066' .. "\x43\u{44}" .. "\z
       end", "tab\tnew\\ABCDend")
check("long string", [==[
a]]b]==], "a]]b")

-- parenthesised calls truncate to one value
local function two() return 1, 2 end
check("paren truncation", select("#", (two())), 1)
check("multi", select("#", two()), 2)

-- table constructors: every field form and separator
local t = { 1, 2; x = "x", ["y"] = "y", [1 + 2] = 3, two(), }
check("positional", t[1] + t[2], 3)
check("named", t.x .. t.y, "xy")
check("keyed", t[3], 1)
check("multi at end", #{ two() }, 2)
check("multi not at end", #{ two(), 9 }, 2)

-- varargs, methods, sugar calls
local obj = { n = 5 }
function obj:get(k) return self.n + (k or 0) end
check("method", obj:get(1), 6)
local function va(...) local a, b = ...; return b end
check("vararg", va(1, 2, 3), 2)
check("sugar", type(print), "function")
check("string method", ("x"):rep(3), "xxx")
check("call on string literal via paren", ("%d"):format(7), "7")

-- a '(' on a new line continues the previous expression as a call
local f = function(g) return function(x) return x + 1 end end
local r = f
(print)(1)
check("continuation: r = f(print)(1)", r, 2)

-- nested functions and closures
local function counter()
  local c = 0
  return function() c = c + 1; return c end
end
local nxt = counter()
nxt(); nxt()
check("closure", nxt(), 3)
