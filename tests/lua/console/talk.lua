-- A hotfix that prints and logs: its output goes back to the operator.
local logger = require "silly.logger"
print("hello from the hotfix", 1 + 1)
logger.info("logged by the hotfix")
