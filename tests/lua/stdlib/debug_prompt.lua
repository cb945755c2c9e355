-- debug.debug runs stdin lines as chunks until `cont`; setcstacklimit is a compatibility
-- function answering the fixed limit.
debug.debug()
print("after prompt", x, debug.setcstacklimit(100))
print("debug_prompt done")
