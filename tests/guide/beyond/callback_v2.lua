-- Version 2 of callback_v1.lua: only the returned texts change.
local M = {}
local ticks = 0
local step
function step() ticks = ticks + 1 return "v2 step " .. ticks end
function M.tick() return step() end
local on_event = function() return "v2 default" end
function M.set_handler(f) on_event = f end
function M.fire() return on_event() end
return M
