-- Beyond the guide: function-valued upvalues. `step` is a forward-declared local function
-- (code), called by old closures such as a wrapper a timer holds; `on_event` holds a
-- callback another module installs at run time (state). silly.patch joins neither (see
-- driver_callback.lua).
local M = {}
local ticks = 0
local step
function step() ticks = ticks + 1 return "v1 step " .. ticks end
function M.tick() return step() end
local on_event = function() return "v1 default" end
function M.set_handler(f) on_event = f end
function M.fire() return on_event() end
return M
