local function rec(n) return rec(n + 1) + 1 end
rec(1)
