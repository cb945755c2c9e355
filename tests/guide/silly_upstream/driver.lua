-- silly's own patch test (test/testpatch.lua upstream), its five cases rewritten for hotlua
-- and run against silly.patch. Usage: hotlua driver.lua load|require <case>...
--   load     each version is loaded with `load` as upstream does (version 2 in an
--            environment table whose fields are merged into the globals afterwards);
--   require  each version is the module `caseN` loaded by `require` (the guide's reload).
-- One patch object serves every case, as upstream. Each case prints "caseN ok".
local S = require "support"
local time = require "silly.time"
local patch = require "silly.patch"
local mode = arg[1]

local function read(path)
    local f = assert(io.open(path, "rb"))
    local text = f:read("a")
    f:close()
    return text
end

-- Both versions of case `n`, and the environment version 2 was loaded in.
local function versions(n)
    local name = "case" .. n
    if mode == "load" then
        local M1 = assert(load(read(name .. "_v1.lua"), "=" .. name .. "_v1"))()
        local ENV = setmetatable({}, {__index = _ENV})
        local M2 = assert(load(read(name .. "_v2.lua"), "=" .. name .. "_v2", "t", ENV))()
        return M1, M2, ENV
    end
    S.install(name .. "_v1.lua", name .. ".lua")
    local M1 = require(name)
    return M1, function()
        S.install(name .. "_v2.lua", name .. ".lua")
        package.loaded[name] = nil
        local M2 = require(name)
        package.loaded[name] = M1
        return M2
    end, {}
end

-- The reload the upstream test does: collect, join (checking absent), replace the fields,
-- merge version 2's globals.
local function fix(P, ENV, M1, M2, absent_expected)
    local up1 = P:collectupval(M1)
    local up2 = P:collectupval(M2)
    local absent = P:join(up2, up1)
    S.list_eq(absent, {absent_expected}, "absent")
    for name, fn in pairs(M2) do
        M1[name] = fn
    end
    for k, v in pairs(ENV) do
        if not _ENV[k] or type(v) == "function" then
            _ENV[k] = v
        end
    end
    return up1, up2
end

-- In `require` mode version 2 is loaded only when the case asks (after version 1 ran).
local function second(M2)
    if type(M2) == "function" then
        return M2()
    end
    return M2
end

local cases = {}

-- A closure reached through a shadowed local, and an absent `_ENV` given the globals.
function cases.case1(P)
    local M1, M2, ENV = versions(1)
    S.eq(M1.run(), 7, "old run")
    S.eq(M1.run(), 11, "old run again")
    M2 = second(M2)
    fix(P, ENV, M1, M2, "$.run.add.add._ENV")
    S.eq(M1.run(), 19, "new run: steps of 4 on the old total")
    S.eq(M1.run(), 27, "new run again")
end

-- The same with the step in a new local: absent, it keeps the new chunk's value.
function cases.case2(P)
    local M1, M2, ENV = versions(2)
    S.eq(M1.run(), 7, "old run")
    S.eq(M1.run(), 11, "old run again")
    M2 = second(M2)
    fix(P, ENV, M1, M2, "$.run.add.add.step")
    S.eq(M1.run(), 19, "new run")
    S.eq(M1.run(), 27, "new run again")
end

-- A timer rescheduling a local function; the new version's stop() must stop it.
function cases.case3(P)
    upstream_case3_log = {}
    local log = upstream_case3_log
    local M1, M2, ENV = versions(3)
    M1.start()
    time.sleep(100)
    S.eq(M1.get_foo(), "hello", "old timer")
    M2 = second(M2)
    local up1, up2 = fix(P, ENV, M1, M2, nil)
    local uv1 = up1.start.upvals.tick
    local uv2 = up2.start.upvals.tick
    S.eq(up1.start.upvals.tick.upid, uv1.upvals.tick.upid, "tick's own cell is start's")
    -- As upstream: the old variable now holds the new tick, so the old timer's next run
    -- hands over to the new one.
    debug.setupvalue(uv1.val, uv1.upvals.tick.idx, uv2.upvals.tick.val)
    time.sleep(150)
    S.eq(M1.get_foo(), "world", "new timer")
    S.eq(log[#log], "new", "the new tick runs")
    M1.stop()
    local n = #log
    time.sleep(120)
    S.eq(#log, n, "stop() stopped the new timer")
end

-- A new upvalue (absent) of a matched function shares the running state of the same
-- variable: foo's b is foo2's and bar's b.
function cases.case4(P)
    local M1, M2, ENV = versions(4)
    S.eq(M1.foo(), 4, "old foo")
    S.eq(M1.foo2(), 6, "old foo2")
    local a, b = M1.bar()
    S.eq(a, 4, "old bar a")
    S.eq(b, 6, "old bar b")
    M2 = second(M2)
    fix(P, ENV, M1, M2, "$.foo.b")
    a, b = M1.foo()
    S.eq(a, 5, "new foo a")
    S.eq(b, 7, "new foo b: the running b")
    S.eq(M1.foo2(), 10, "new foo2 on the same b")
    a, b = M1.bar()
    S.eq(a, 5, "new bar a")
    S.eq(b, 10, "new bar b")
end

-- An absent `_ENV` gets the global table.
function cases.case5(P)
    local M1, M2, ENV = versions(5)
    M2 = second(M2)
    fix(P, ENV, M1, M2, "$.foo._ENV")
    S.eq(upstream_case5_bar, 3, "global set by version 2")
    M1.foo()
    S.eq(upstream_case5_bar, 4, "the new foo bumps the global")
end

local P = patch.new()
for i = 2, #arg do
    local name = "case" .. arg[i]
    cases[name](P)
    print(name .. " ok")
end
print("done")
