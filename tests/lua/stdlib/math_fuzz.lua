-- Every math function over a grid of awkward arguments (integers at the limits, signed
-- zeros, infinities, NaN, numeric strings, non-numbers), against lua5.4.
local vals = {0, -0.0, 1, -1, 2, 3, 7, -7, 0.5, -0.5, 2.5, -2.5, 1e15, 2^53, 2^63, -2^63,
  math.maxinteger, math.mininteger, math.huge, -math.huge, 0/0, "3", "2.5", "0x10", "x", true, {}}
local function fmt(v)
  if type(v) == "number" then
    if v ~= v then return "nan" end
    return math.type(v) .. ":" .. string.format("%.17g", v)
  end
  return type(v) .. ":" .. tostring(type(v) == "table" and "t" or v)
end
local function show(name, ok, ...)
  local t = table.pack(...)
  local parts = {}
  for i = 1, t.n do parts[i] = ok and fmt(t[i]) or tostring(t[i]) end
  print(name, ok, table.concat(parts, " "))
end
local one = {"abs", "ceil", "floor", "sqrt", "sin", "cos", "tan", "asin", "acos", "exp", "log",
  "deg", "rad", "tointeger", "type", "modf", "atan"}
-- atan and atan2 are one C function in lua5.4: which name its errors show depends on
-- the (randomly seeded) hash order, so only numbers go to them.
local function skip(f, ...)
  if f ~= "atan" and f ~= "atan2" then return false end
  for _, v in ipairs({...}) do if type(v) ~= "number" then return true end end
  return false
end
for _, f in ipairs(one) do
  for i, v in ipairs(vals) do
    if not skip(f, v) then show(f .. "(" .. i .. ")", pcall(math[f], v)) end
  end
end
local two = {"fmod", "atan", "log", "max", "min", "ult"}
for _, f in ipairs(two) do
  for i = 1, #vals, 2 do
    for j = 1, #vals, 3 do
      if not skip(f, vals[i], vals[j]) then
        show(f .. "(" .. i .. "," .. j .. ")", pcall(math[f], vals[i], vals[j]))
      end
    end
  end
end
for _, f in ipairs({"pow", "ldexp", "atan2"}) do
  for i = 1, #vals, 2 do
    for j = 1, #vals, 3 do
      if not skip(f, vals[i], vals[j]) then
        show(f .. "(" .. i .. "," .. j .. ")", pcall(math[f], vals[i], vals[j]))
      end
    end
  end
end
for _, f in ipairs({"cosh", "sinh", "tanh", "log10", "frexp"}) do
  for i, v in ipairs(vals) do show(f .. "(" .. i .. ")", pcall(math[f], v)) end
end
print("math_fuzz done")
