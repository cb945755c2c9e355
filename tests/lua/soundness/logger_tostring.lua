-- silly.logger formatting a table whose __tostring removes and collects the entries still
-- waiting to be printed.
local logger = require "silly.logger"
local t = {}
t[1] = setmetatable({}, {__tostring = function() t[2] = nil; t[3] = nil; collectgarbage(); return "first" end})
t[2] = {"second"}
t[3] = "third"
logger.info(t)
print("logged")
