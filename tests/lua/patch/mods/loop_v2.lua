local M = {}
local time = require "silly.time"
-- v2 changes the helper's signature.
local function describe(name, level)
    return name .. "#" .. level
end
function M.loop(p, rounds, out)
    for _ = 1, rounds do
        out[#out + 1] = describe(p.name, p.level)
        time.sleep(30)
    end
    out[#out + 1] = "loop done"
end
return M
