-- Line events after a hook is set inside a function called by pcall (PUC's oldpc rules
-- across returns through pcall), and an error raised by a hook: it escapes with the hook
-- frame named hook '?' and the hooked line as current.
print(pcall(function() debug.sethook(function(ev, line) error('from hook ' .. ev .. ' ' .. line) end, 'l') local x = 1 end))
debug.sethook()
