//! hotlua-vm: the Lua 5.4 virtual machine.
