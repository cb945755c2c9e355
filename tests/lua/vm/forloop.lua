-- Numeric for with Lua 5.4's rules.
local maxi, mini = 9223372036854775807, -9223372036854775807 - 1
print(-9223372036854775808, mini)
local function run(a, b, c)
  local s = ""
  local n = 0
  if c then
    for i = a, b, c do n = n + 1 if n <= 5 then s = s .. tostring(i) .. " " end end
  else
    for i = a, b do n = n + 1 if n <= 5 then s = s .. tostring(i) .. " " end end
  end
  print(n, s)
end
run(1, 3)
run(3, 1)
run(3, 1, -1)
run(1, 0)
run(maxi - 2, maxi)
run(mini + 2, mini, -1)
run(mini, mini + 2)
run(maxi, maxi - 2, -1)
run(1, maxi, maxi)
run(0, maxi, maxi // 2)
run(1, 2, 0.5)
run(1.0, 2)
run(1, 2.5)
run(1, 2.5, 1)
run(3, 1.5, -1)
run(1, 1e300, 1e299)
run(0.1, 0.35, 0.1)
run(1, -1e300)
run(1, 1e300, -1)
run(-1, -1e300, -1e299)
run(maxi - 1, 1e100)
run(mini + 1, -1e100, -1)
run(1, 0/0)
run("2", 3)
run(1, "3")
run(1, 3, "1")
for i = 1, 3 do local j = i i = 10 io_s = (io_s or "") .. j end
print(io_s)
print(pcall(function() for i = 1, 10, 0 do end end))
print(pcall(function() for i = 1, {} do end end))
print(pcall(function() for i = nil, 1 do end end))
print(pcall(function() for i = 1, 2, "x" do end end))
print("ok")
