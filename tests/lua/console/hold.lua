-- Keeps keep.old in a global table and in a repeating timer: the census names both.
local time = require "silly.time"
local keep = require "keep"
_G.saved = {fn = keep.old} -- (a plain global would land in the inject's own environment)
local f = keep.old
local function tick() f(); time.after(50, tick) end
time.after(50, tick)
