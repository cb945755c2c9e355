-- Guide: "Keep Upvalue Structure Stable". Usage: hotlua driver.lua stable|deleted. With the
-- structure kept, the new get_timeout is joined to the running config table (so the running
-- value 1000 wins over the new default 2000, and the new `retry` field is not there: that
-- is why Example 3 merges new settings); with the upvalue deleted there is nothing to join
-- and the hardcoded value is returned.
local S = require "support"
local patch = require "silly.patch"
local old = dofile("old.lua")
local new = dofile(arg[1] .. "_new.lua")
local P = patch.new()
local up_old = P:collectupval(old)
local up_new = P:collectupval(new)
local absent, conflicts = P:join(up_new, up_old)
S.list_eq(absent, {}, "absent")
S.list_eq(conflicts, {}, "conflicts")
old.get_timeout = new.get_timeout
if arg[1] == "stable" then
    S.eq(up_new.get_timeout.upvals.config.val.retry, 3, "the new chunk's table had retry")
    S.eq(old.get_timeout(), 1000, "the running config is used")
else
    S.eq(up_new.get_timeout.upvals.config, nil, "no config upvalue")
    S.eq(old.get_timeout(), 2000, "hardcoded")
end
print(arg[1], old.get_timeout())
print("done")
