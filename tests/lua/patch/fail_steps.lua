-- issue 13 items 3 and 7: a failed patch at each step leaves everything exactly as before
-- (fingerprint of module tables, prototypes, cells and their values, package.loaded), and
-- the timers the new chunks started are cancelled. Three modules are patched as one
-- transaction; the failure is injected into the first, the second, then the third module
-- (an error while its new chunk runs), then as a compile error, then by `verify`.
local S = require "support"
local reload = require "hotlua.reload"
local time = require "silly.time"
local names = {"a", "b", "c"}
for _, m in ipairs(names) do
    S.install("mods/" .. m .. "_v1.lua", m .. ".lua")
end
local A, B, C = require "a", require "b", require "c"
print(A.bump(), B.bump(), C.bump())
local v2 = {}
for _, m in ipairs(names) do
    local f = assert(io.open("mods/" .. m .. "_v2.lua"))
    v2[m] = f:read("a")
    f:close()
end
local before = S.fingerprint(names)
local function attempt(what, sources, opts)
    local ok, report = reload.apply(sources, opts)
    time.sleep(50) -- a timer a rolled-back chunk started would fire now
    print(what, ok, report.step, report.module, report.error)
    S.eq(S.fingerprint(names), before, what .. ": fingerprint")
    S.eq(_G.fired, nil, what .. ": a cancelled timer fired")
end
for i, m in ipairs(names) do
    local sources = {a = v2.a, b = v2.b, c = v2.c}
    sources[m] = sources[m]:gsub("return M\n$", "error('broken " .. m .. "')\nreturn M\n")
    attempt("run error in " .. i, sources)
end
attempt("compile error", {a = v2.a, b = v2.b, c = v2.c .. "\nlocal = 1"})
attempt("verify false", {a = v2.a, b = v2.b, c = v2.c}, {verify = function(r)
    S.eq(A.extra(), "a extra", "verify sees the patched modules")
    return false, "not today"
end})
attempt("verify error", {a = v2.a, b = v2.b, c = v2.c}, {verify = function(r)
    error("boom", 0)
end})
-- Everything still runs the old code on the old state.
print(A.bump(), B.bump(), C.bump(), A.extra)
local ok, report = reload.apply({a = v2.a, b = v2.b, c = v2.c}, {verify = function(r)
    return r.ok and r.modules.a.to == 2
end})
print("apply", ok, report.error)
S.check(S.fingerprint(names) ~= before, "a committed patch changes the fingerprint")
print(A.bump(), B.bump(), C.bump(), A.extra())
time.sleep(50)
print("fired", _G.fired)
