-- Beyond the guide: the join rules of spec/patch.md one by one, each on a small pair of
-- module versions: a function only the new version has, function/non-function conflicts,
-- nil on either side, the function form's `$.#` paths, inner-function paths, and cell
-- identities (upid) before and after the join.
local S = require "support"
local patch = require "silly.patch"

local function mod(src)
    return assert(load(src, "=mod"))()
end
local function join(new, old)
    local P = patch.new()
    local up_new, up_old = P:collectupval(new), P:collectupval(old)
    local absent, conflicts = P:join(up_new, up_old)
    for k, v in pairs(new) do
        if type(v) == "function" then
            old[k] = v
        end
    end
    return absent, conflicts, up_new, up_old
end

-- A function only the new version has is neither joined nor reported (as silly). Loaded
-- with `load`, not `require`, it keeps its own cells (no old module state to find): here
-- a `cache` whose name the old functions captured as two different cells.
do
    local old = mod([[
        local M = {}
        do local cache = {1} function M.a() return cache end end
        do local cache = {2} function M.b() return cache end end
        return M]])
    local new = mod([[
        local M = {}
        do local cache = {1} function M.a() return cache end end
        do local cache = {2} function M.b() return cache end end
        local cache = {3}
        function M.c() return cache end
        return M]])
    local old_a = old.a()
    local absent, conflicts = join(new, old)
    S.list_eq(absent, {}, "new function: absent")
    S.list_eq(conflicts, {}, "new function: conflicts")
    S.eq(old.a(), old_a, "a still joined by function")
    S.eq(old.c()[1], 3, "c keeps its own cell")
end

-- Function versus non-function, both ways.
do
    local old = mod([[
        local M = {}
        local handler = function() return "old" end
        local limit = 5
        function M.run() return handler(), limit end
        return M]])
    local new = mod([[
        local M = {}
        local handler = "new"
        local limit = function() return 9 end
        function M.run() return handler, limit() end
        return M]])
    local absent, conflicts = join(new, old)
    S.list_eq(absent, {}, "function/value: absent")
    S.list_eq(conflicts, {"$.run.handler", "$.run.limit"}, "function/value: conflicts")
    local h, l = old.run()
    S.eq(h, "new", "unjoined handler")
    S.eq(l, 9, "unjoined limit")
end

-- nil on either side joins: the running value wins, even when it is nil.
do
    local old = mod([[
        local M = {}
        local cache
        local name = "running"
        function M.get() return cache, name end
        function M.set(v) cache = v end
        return M]])
    old.set(nil)
    local new = mod([[
        local M = {}
        local cache = {}
        local name
        function M.get() return cache, name end
        function M.set(v) cache = v end
        return M]])
    local absent, conflicts = join(new, old)
    S.list_eq(absent, {}, "nil: absent")
    S.list_eq(conflicts, {}, "nil: conflicts")
    local cache, name = old.get()
    S.eq(cache, nil, "old nil kept over the new default")
    S.eq(name, "running", "old value kept over a new nil")
    old.set(7)
    S.eq((old.get()), 7, "set and get share the cell")
end

-- The function form and its `$.#` paths.
do
    local f_old = mod("local n = 1 return function() n = n + 1 return n end")
    f_old()
    local f_new = mod("local n = 0 local step = 5 return function() n = n + step return n end")
    local P = patch.new()
    local absent, conflicts = P:join(f_new, P:collectupval(f_new), f_old, P:collectupval(f_old))
    S.list_eq(absent, {"$.#.step"}, "function form: absent")
    S.list_eq(conflicts, {}, "function form: conflicts")
    S.eq(f_new(), 7, "function form joined n")
end

-- Inner functions: a new upvalue of a helper reached through an upvalue.
do
    local old = mod([[
        local M = {}
        local count = 0
        local function helper() count = count + 1 return count end
        function M.get() return helper() end
        return M]])
    old.get()
    local new = mod([[
        local M = {}
        local count = 0
        local bonus = 100
        local function helper() count = count + 1 return count + bonus end
        function M.get() return helper() end
        return M]])
    local absent, conflicts = join(new, old)
    S.list_eq(absent, {"$.get.helper.bonus"}, "inner: absent")
    S.list_eq(conflicts, {}, "inner: conflicts")
    S.eq(old.get(), 102, "inner helper joined count")
end

-- Cell identities: shared cells have one upid; after the join the new closures report the
-- old cells' upid.
do
    local old = mod([[
        local M = {}
        local count = 0
        function M.add(x) count = count + x end
        function M.get() return count end
        return M]])
    local new = mod([[
        local M = {}
        local count = 0
        function M.add(x) count = count + 2 * x end
        function M.get() return count end
        return M]])
    local P = patch.new()
    local up_old = P:collectupval(old)
    local up_new = P:collectupval(new)
    S.eq(up_old.add.upvals.count.upid, up_old.get.upvals.count.upid, "one cell, one upid")
    S.check(up_new.add.upvals.count.upid ~= up_old.add.upvals.count.upid, "different cells before")
    S.eq(up_old.add.upvals.count.idx, 1, "idx is 1-based")
    S.eq(up_old.add.upvals.count.utype, "number", "utype")
    P:join(up_new, up_old)
    local after = patch.new():collectupval(new)
    S.eq(after.add.upvals.count.upid, up_old.add.upvals.count.upid, "joined: same upid")
    S.eq(after.get.upvals.count.upid, up_old.get.upvals.count.upid, "joined get: same upid")
end
print("done")
