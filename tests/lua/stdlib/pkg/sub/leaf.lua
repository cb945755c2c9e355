return "leaf " .. ... .. " " .. select(2, ...)
