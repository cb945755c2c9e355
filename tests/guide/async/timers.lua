-- Guide: "Best Practices > 6. Handling Asynchronous Context": the guide's repeat_call, for
-- the snippets that use it without defining it. The guide's version returns nothing, so its
-- "Solution 2" could not cancel it: this one records the pending session in
-- `holder.timer_handle` (the only change) and returns it.
local time = require "silly.time"
local T = {}
function T.repeat_call(ms, func, holder)
    local function loop()
        func()
        local session = time.after(ms, loop)
        if holder then
            holder.timer_handle = session
        end
    end
    loop()
    return holder and holder.timer_handle
end
return T
