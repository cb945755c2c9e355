x = (x or 10) print("init file", x)
