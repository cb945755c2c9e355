-- The guide's Example 1 (HTTP route) through hotlua.reload: the example's v1 and v2 files,
-- verbatim from ../shared/seed/examples (arg[1]). access_count keeps its value, error_count
-- is new and starts at 0, requests without a name get 400.
local S = require "support"
local reload = require "hotlua.reload"
local ex = arg[1]
S.install(ex .. "/route_v1.lua", "route.lua")
local route = require "route"
local res = {}
function res:status(code) self.code = code end
function res:send(body) self.body = body end
route.handle_request({params = {}}, res)
route.handle_request({params = {}}, res)
print(res.code, res.body)
local handler = route.handle_request -- held, as a server's router would
S.install(ex .. "/route_v2.lua", "route.lua")
local ok, report = reload.apply({"route"})
local m = report.modules.route
print("apply", ok, "new", S.join(m.upvalues.new), "kept", S.join(m.upvalues.kept))
handler({params = {}}, res)
print(res.code, res.body)
handler({params = {name = "Ann"}}, res)
print(res.code, res.body)
local stats = route.get_stats()
print("stats", stats.total, stats.errors)
