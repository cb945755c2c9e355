-- At the state's close (the end of the program): finalizers run once; one of them cannot
-- collect (collectgarbage answers fail); objects made while closing are not finalized.
setmetatable({}, {__gc = function ()
  print("finalized at close")
  setmetatable({}, {__gc = function () print("never printed") end})
  print(collectgarbage())
end})
print("close_finalizers done")
