print(xpcall(function()
  local t <close> = setmetatable({}, {__close = function(_, e) error("close saw " .. tostring(e), 0) end})
  error("orig", 0)
end, function(m) return "H(" .. m .. ")" end))
