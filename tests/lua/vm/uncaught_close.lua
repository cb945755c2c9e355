local t <close> = setmetatable({}, {__close = function() error("in close") end})
error("orig")
