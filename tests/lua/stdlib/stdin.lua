io.write("prompt> ")
print(io.read("n", "n"))
print(io.read())
print(io.read("L"))
for l in io.lines() do print("[" .. l .. "]") end
print(io.read("a") == "", io.read("l"), io.read(0))
local name = os.tmpname()
do local f = io.open(name, "w") f:write("written by gc") end
collectgarbage() collectgarbage()
print(io.open(name):read("a"))
os.remove(name)
print("stdin done")
