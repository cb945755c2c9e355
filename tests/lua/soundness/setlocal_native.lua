-- debug.setlocal reads a native's arguments but does not write them: natives rely on their
-- arguments staying rooted (PUC writes them; see spec/embedding.md).
local t = {5, 3, 1, 4, 2}
local writes = 0
table.sort(t, function(a, b)
  local name = debug.getlocal(2, 1)
  if debug.setlocal(2, 1, nil) then writes = writes + 1 end
  collectgarbage()
  return a < b
end)
print(table.concat(t, " "), "writes refused:", writes == 0)
