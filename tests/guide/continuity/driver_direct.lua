-- Guide: "Basic Concepts > Upvalue Continuity": directly replacing the function (loading the
-- new code over the global `increment`) loses `count`: the state is reset.
local S = require "support"

S.install("counter_v1.lua", "counter.lua")
require "counter"
S.eq(increment(), 101, "old code: 100 -> 101")
S.eq(increment(), 102, "old code: 101 -> 102")

S.install("counter_v2.lua", "counter.lua")
package.loaded["counter"] = nil
require "counter" -- the new chunk's `function increment()` replaces the global directly
local v = increment()
S.eq(v, 2, "direct replacement: count restarted from the new chunk's initial value")
print("direct", v)
print("done")
