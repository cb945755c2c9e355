-- Guide: "Troubleshooting > Common Error 4: Circular Reference Issues". Builds state in three
-- modules that reference each other, puts every version 2 in place, runs the batch and
-- checks each module kept its state, the cross-module references point at the running
-- tables and the new code runs.
local S = require "support"
for _, m in ipairs({"module_a", "module_b", "module_c"}) do
    S.install(m .. "_v1.lua", m .. ".lua")
end
local a = require "module_a"
local b = require "module_b"
local c = require "module_c"
a.hit()
a.hit()
b.add(5)
S.eq(a.total(), 2 + 7 + 3, "v1 totals")
S.eq(c.owner(), a, "the cycle")

for _, m in ipairs({"module_a", "module_b", "module_c"}) do
    S.install(m .. "_v2.lua", m .. ".lua")
end
dofile("batch.lua")

S.eq(require "module_a", a, "module_a table kept")
S.eq(require "module_b", b, "module_b table kept")
S.eq(require "module_c", c, "module_c table kept")
S.eq(a.describe(), "a:2", "a's hits kept")
S.eq(b.describe(), "b:7", "b's n kept")
S.eq(c.size(), 3, "c's items kept")
S.eq(a.hit(), 3, "v2 hit continues")
S.eq(b.describe(), "b:9", "v2 hit adds 2 to the running b")
print(a.describe(), b.describe(), c.describe())
print("done")
