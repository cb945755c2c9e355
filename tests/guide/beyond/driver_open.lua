-- Beyond the guide: joining to an open upvalue. The new handler is connected to a cell that
-- still lives in the running M.serve's frame: serve's local sees the new handler's update
-- and, once serve returns and the cell closes, the value stays shared.
local S = require "support"
local patch = require "silly.patch"
local old = dofile("open_v1.lua")
local function hotfix()
    local new = dofile("open_v2.lua")
    local P = patch.new()
    local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
    S.list_eq(absent, {}, "absent")
    S.list_eq(conflicts, {}, "conflicts")
    old.handle = new.handle
end
local served, r = old.serve(hotfix)
S.eq(r, 102, "new handler on the open cell")
S.eq(served, 102, "the running frame's local sees it")
S.eq(old.handle(), 202, "closed cell still shared")
print("done")
