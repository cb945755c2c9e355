#!/usr/bin/env hotlua
print(debug.getinfo(1).currentline)
