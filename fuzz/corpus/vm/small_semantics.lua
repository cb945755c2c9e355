-- Small semantics the official suite checks (issue 15), compared with lua5.4.
-- tonumber with a base takes a '+' sign too.
print(tonumber("  +1Z  ", 36), tonumber("  -1z  ", 36), tonumber("+", 10), tonumber("+-1", 10))
-- gsub returns the subject itself when nothing was replaced (no match, or replacements
-- that were nil or false); any replacement makes a new string.
local s = string.rep("a", 100)
local function p(x) return string.format("%p", x) end
print(p(s) == p((string.gsub(s, "b", "c"))), p(s) == p((string.gsub(s, ".", {x = "y"}))))
print(p(s) == p((string.gsub(s, ".", function() return nil end))))
print(p(s) ~= p((string.gsub(s, ".", function(x) return x end))), (string.gsub(s, "a", "a", 0)) == s)
-- Equal long string constants of one chunk are one object.
local s1 <const> = "01234567890123456789012345678901234567890123456789"
local s3 = "01234567890123456789012345678901234567890123456789"
local function foo2() return "01234567890123456789012345678901234567890123456789" end
print(p(s1) == p(s3), p(s1) == p(foo2()))
local sd = "0123456789" .. "0123456789012345678901234567890123456789"
print(sd == s1, p(sd) ~= p(s1))
-- Unary metamethods get their operand twice.
local mt = {}
for _, e in ipairs{"__unm", "__len", "__bnot"} do
  mt[e] = function(...) return select("#", ...) .. tostring(rawequal(select(1, ...), select(2, ...))) end
end
local a = setmetatable({}, mt)
print(-a, #a, ~a)
print("small_semantics done")
