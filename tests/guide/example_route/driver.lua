-- Guide: "Complete Examples > Example 1: Hot Reload HTTP Routes".
-- Builds v1's state with fake req/res objects (the HTTP server comes later), puts route_v2.lua
-- at route.lua's path, runs the guide's hotfix_route.lua verbatim and checks what the guide
-- promises: access_count keeps counting, error_count is new and starts at 0, requests
-- without `name` get 400.
local S = require "support"

S.install("route_v1.lua", "route.lua")
local route = require "route"
local function call(params)
    local res = S.res()
    route.handle_request(S.req(params), res)
    print("response", res.code, res.body)
    return res
end

for _ = 1, 3 do
    call({})
end
S.eq(route.get_stats().total, 3, "v1 total")
S.eq(route.get_stats().errors, nil, "v1 has no error count")

S.install("route_v2.lua", "route.lua")
dofile("hotfix_route.lua")

S.eq(package.loaded["route"], route, "package.loaded keeps the old module table")
local stats = route.get_stats()
S.eq(stats.total, 3, "access_count kept")
S.eq(stats.errors, 0, "error_count starts at 0")

local res = call({})
S.eq(res.code, 400, "no name: status")
S.eq(res.body, "Error: name is required", "no name: body")
res = call({name = "carol"})
S.eq(res.code, 200, "with name: status")
S.eq(res.body, "Hello, carol (visitor #5)", "with name: body")
res = call({name = "dave"})
S.eq(res.body, "Hello, dave (visitor #6)", "visitor numbers continue")
call({})

stats = route.get_stats()
S.eq(stats.total, 7, "total after hotfix")
S.eq(stats.errors, 2, "errors after hotfix")
print("stats", stats.total, stats.errors)
print("done")
