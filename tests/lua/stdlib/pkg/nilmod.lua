loadcount = (loadcount or 0) + 1
