-- Guide: "Debugging Tips". Usage: hotlua driver.lua <tip script>. The tips print; the Rust
-- test compares their lines as a set (they follow `pairs` order).
dofile(arg[1])
