-- The guide's Example 2 (game logic) through hotlua.reload, v1 and v2 verbatim from
-- ../shared/seed/examples (arg[1]): existing players keep name and score, get level 1 and
-- exp 0 by the guide's migration (through the running module's upvalue), and add_score now
-- grants experience through the new add_exp.
local S = require "support"
local reload = require "hotlua.reload"
local ex = arg[1]
S.install(ex .. "/game_v1.lua", "game.lua")
local game = require "game"
game.add_player(1, "ann")
game.add_player(2, "bob")
game.add_score(1, 50)
S.install(ex .. "/game_v2.lua", "game.lua")
local ok, report = reload.apply({"game"})
local m = report.modules.game
print("apply", ok, "added", S.join(m.added), "fields", S.join(m.fields.added))
-- The guide's migration: existing players get the new fields.
local player_data
for i = 1, math.huge do
    local name, value = debug.getupvalue(game.add_player, i)
    if name == nil then break end
    if name == "player_data" then player_data = value end
end
local migrated = 0
for _, p in pairs(player_data) do
    if not p.level then
        p.level, p.exp = 1, 0
        migrated = migrated + 1
    end
end
print("migrated", migrated)
game.add_score(1, 1000)
local p = game.get_player(1)
print(p.name, p.score, p.level, p.exp)
game.add_player(3, "cid")
print(game.get_player(3).level, game.get_player(2).score)
