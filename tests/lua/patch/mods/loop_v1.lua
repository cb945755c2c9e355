local M = {}
local time = require "silly.time"
local function describe(p)
    return p.name .. "@" .. p.level
end
function M.loop(p, rounds, out)
    for _ = 1, rounds do
        out[#out + 1] = describe(p)
        time.sleep(30)
    end
    out[#out + 1] = "loop done"
end
return M
