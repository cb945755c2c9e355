-- Nesting and local limits as PUC's recursive parser meets them (C levels, MAXVARS),
-- also in chunks that stop short; method names past the 255-constant RK limit.
local function first(msg) return (msg:match("^[^\n]*")) end

local function try(s)
  local f, msg = load(s)
  print(f and "loaded" or first(msg))
end

-- 100 levels of anything load; 500 are refused, complete or not
for _, c in ipairs{
  {"local a; a", ",a", "= 1", ",1"}, {"local a; a=", "{", "0", "}"},
  {"return ", "(", "2", ")"}, {"local function a (x) return x end; return ", "a(", "2.2", ")"},
  {"", "do ", "", " end"}, {"", "while a do ", "", " end"},
  {"local a; ", "if a then else ", "", " end"}, {"", "function foo () ", "", " end"},
  {"local a = ''; return ", "a..", "'a'", ""}, {"local a = 1; return ", "a^", "a", ""},
  {"return ", "function() return ", "1", " end"}, {"return ", "not ", "1", ""},
} do
  local init, rep, close, repc = table.unpack(c)
  try(init .. rep:rep(100) .. close .. repc:rep(100))
  try(init .. rep:rep(500))
  try(init .. rep:rep(500) .. close .. repc:rep(500))
end

-- the exact thresholds
for _, c in ipairs{{"return ", "(", "2", ")"}, {"", "do ", "", " end"},
                   {"", "while a do ", "", " end"}, {"f", "(", "2", ")"},
                   {"local a; a", ",a", "= 1", ""}, {"x = ", "a+(", "1", ")"}} do
  local init, rep, close, repc = table.unpack(c)
  local n = 1
  while load(init .. rep:rep(n) .. close .. repc:rep(n)) do n = n + 1 end
  print(rep, n)
end

-- deep nesting never exhausts the stack of the compiler
try("return " .. ("("):rep(10000) .. "1" .. (")"):rep(10000))
try("return " .. ("("):rep(10000))

-- too many locals, in a complete chunk or not
local s = "\nfunction foo ()\n  local "
for j = 1, 300 do s = s .. "a" .. j .. ", " end
s = s .. "b\n"
try(s)
try(s .. "end")
try("local x <const> = 1; local y = 2; ::l:: goto l")

-- a method named by a constant past index 255
local t = {}
for i = 1, 300 do t[i] = "a = x" .. i end
local src = table.concat(t, "; ") .. "; local t = {}; t:bbb()"
print(select(2, pcall(load(src))):match("%(.*"))

-- a file's __gc checks its argument
print(pcall(getmetatable(io.stdin).__gc))

-- the 201st local function of a chunk that stops short
try(string.rep("local function f(a, b, ...) return a end ", 250) .. "+")
try(string.rep("local function f(a, b, ...) return a end ", 150) .. "+")
