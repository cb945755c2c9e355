-- A server with a console on the port given as argument; `state` shows what injects change.
local port = ...
state = {v = 1}
require "silly.console"{
  addr = "127.0.0.1:" .. port,
  cmd = {
    State = function() return state.v end,
    Add = function(a, b) return tonumber(a) + tonumber(b) end,
  },
}
