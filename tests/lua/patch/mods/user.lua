-- Another module holding holders.tick in a local of its own.
local tick = require("holders").tick
return {
    call = function()
        return tick()
    end,
}
