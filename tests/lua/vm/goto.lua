-- goto and labels.
local i = 1
::top::
if i <= 3 then
  io_write = (io_write or "") .. i .. " "
  i = i + 1
  goto top
end
print(io_write)
for j = 1, 3 do
  for k = 1, 3 do
    if k == 2 then goto next_j end
    io_write = io_write .. j .. k .. " "
  end
  ::next_j::
end
print(io_write)
local fs = {}
do
  local n = 0
  ::again::
  local v = n
  fs[#fs + 1] = function() return v end
  n = n + 1
  if n < 3 then goto again end
end
print(fs[1](), fs[2](), fs[3]())
do goto skip; print("not printed") ::skip:: end
print("ok")
