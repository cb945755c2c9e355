-- A hotfix that sleeps before changing state (the connection's task suspends).
require "silly.time".sleep(300)
state.v = 100
