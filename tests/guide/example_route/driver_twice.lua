-- Guide: "Complete Examples > Example 1", the hotfix applied twice (an operator re-running
-- the same inject): the second run finds nothing new (no warning), joins to the cells the
-- first run kept, and the counters go on.
local S = require "support"

S.install("route_v1.lua", "route.lua")
local route = require "route"
local function call(params)
    local res = S.res()
    route.handle_request(S.req(params), res)
    return res
end
call({})
call({})
S.install("route_v2.lua", "route.lua")
dofile("hotfix_route.lua")
call({})
S.eq(call({name = "eve"}).body, "Hello, eve (visitor #4)", "after the first hotfix")
local first = route.handle_request
dofile("hotfix_route.lua")
S.check(route.handle_request ~= first, "replaced again by a fresh v2 closure")
S.eq(call({name = "fay"}).body, "Hello, fay (visitor #5)", "after the second hotfix")
call({})
local stats = route.get_stats()
S.eq(stats.total, 6, "total")
S.eq(stats.errors, 2, "errors")
print("done")
