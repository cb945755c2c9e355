-- Guide: "Complete Examples > Example 2: Hot Reload Business Logic Module".
-- Builds players with v1, puts game_v2.lua at game.lua's path, runs the guide's
-- hotfix_game.lua verbatim, then checks the migration, the new experience rules of v2's
-- add_score/add_exp on existing and new players.
local S = require "support"

S.install("game_v1.lua", "game.lua")
local game = require "game"
game.add_player(1, "alice")
game.add_player(2, "bob")
game.add_player(3, "carol")
game.add_score(1, 50)
game.add_score(2, 7)
game.add_score(2, 8)
S.eq(game.get_player(1).score, 50, "v1 score")
S.eq(game.get_player(1).level, nil, "v1 has no level")
local alice = game.get_player(1)

S.install("game_v2.lua", "game.lua")
dofile("hotfix_game.lua")

-- Existing players keep their data and table identity, and were migrated.
S.eq(game.get_player(1), alice, "same player table")
for id, want in pairs({[1] = {"alice", 50}, [2] = {"bob", 15}, [3] = {"carol", 0}}) do
    local p = game.get_player(id)
    S.eq(p.name, want[1], "name of " .. id)
    S.eq(p.score, want[2], "score of " .. id)
    S.eq(p.level, 1, "migrated level of " .. id)
    S.eq(p.exp, 0, "migrated exp of " .. id)
end

-- add_score now grants floor(points / 10) experience through add_exp, levelling up while
-- exp >= level * 100.
game.add_score(1, 250) -- exp 25
S.eq(alice.score, 300, "score after 250")
S.eq(alice.exp, 25, "exp after 250")
S.eq(alice.level, 1, "level after 250")
game.add_score(1, 800) -- exp 25 + 80 = 105 -> level 2, exp 5
S.eq(alice.score, 1100, "score after 800")
S.eq(alice.level, 2, "level up at 100 exp")
S.eq(alice.exp, 5, "exp carried over")
game.add_score(1, 5000) -- exp 5 + 500 = 505 -> -200 (l2) -> 305 -300 (l3) -> 5, level 4
S.eq(alice.level, 4, "several levels at once")
S.eq(alice.exp, 5, "exp after several levels")
S.eq(alice.score, 6100, "score after 5000")
game.add_score(2, 9) -- floor(0.9) = 0 exp
S.eq(game.get_player(2).exp, 0, "less than 10 points give no exp")
S.eq(game.get_player(2).score, 24, "score of bob")

-- add_exp exists only in v2: it sees the existing players (joined by variable).
game.add_exp(3, 150)
S.eq(game.get_player(3).level, 2, "add_exp on an existing player: level")
S.eq(game.get_player(3).exp, 50, "add_exp on an existing player: exp")
game.add_exp(99, 10) -- unknown player: nothing happens

-- New players get level and exp from v2's add_player, in the same shared table.
game.add_player(4, "dave")
local dave = game.get_player(4)
S.eq(dave.level, 1, "new player level")
S.eq(dave.exp, 0, "new player exp")
game.add_score(4, 1000)
S.eq(dave.level, 2, "new player level up")
S.eq(dave.exp, 0, "new player exp after level up")
print("alice", alice.score, alice.level, alice.exp)
print("dave", dave.score, dave.level, dave.exp)
print("done")
