-- the global 'arg' and the main chunk's '...'
for i = -4, 3 do io.write(i, "=", tostring(arg[i]), " ") end
print()
print(select('#', ...), ...)
