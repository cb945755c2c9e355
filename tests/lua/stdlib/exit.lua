-- os.exit flushes buffered output and uses the status.
io.write("no newline at exit")
print(" ...exit done")
local f = io.open(os.tmpname(), "w")
os.exit(3)
