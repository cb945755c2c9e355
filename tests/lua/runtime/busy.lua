-- A plain script that never yields to the loop.
print("spin")
while true do end
