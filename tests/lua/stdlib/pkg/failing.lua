error("module failed at load")
