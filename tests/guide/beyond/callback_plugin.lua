-- A callback from another chunk, installed at run time (see callback_v1.lua).
return function() return "plugin handler" end
