-- dofile runs its chunk as a call of its caller, so the chunk may yield (Lua 5.4's dofile
-- uses a continuation); its results are dofile's.
local name = os.tmpname()
local f = assert(io.open(name, "w"))
f:write("local x, y = coroutine.yield(10)\nreturn x + y, 'second'\n")
f:close()
local co = coroutine.wrap(dofile)
print(co(name))
print(co(100, 101))
-- From the main thread, as before.
f = assert(io.open(name, "w"))
f:write("return ...\n")
f:close()
print(select("#", dofile(name)), pcall(dofile, name .. ".missing") == false)
os.remove(name)
print("dofile_yield done")
