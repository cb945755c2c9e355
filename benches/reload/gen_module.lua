-- Generates the source of a module with `n` functions of 3 upvalues each, drawn from 150
-- module-level locals so that many upvalues are shared across functions.
return function(n)
  local parts = { "local M = {}\n" }
  for i = 0, 149 do parts[#parts + 1] = ("local s%d = %d\n"):format(i, i) end
  for i = 0, n - 1 do
    local a, b, c = i % 150, (i * 7 + 1) % 150, (i * 13 + 2) % 150
    parts[#parts + 1] = ("function M.f%d(x) s%d = s%d + x return s%d + s%d end\n"):format(i, a, a, b, c)
  end
  parts[#parts + 1] = "return M\n"
  return table.concat(parts)
end
