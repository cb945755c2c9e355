local env = require "silly.env"
print(env.get("port"), env.get("name"), env.get("missing"))
env.set("port", 9)
env.set("k", "v")
print(env.get("port"), env.get("k"))
print(select("#", ...), ...)
print(arg[0], arg[1], #arg)
