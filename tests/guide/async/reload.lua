-- Guide: "Best Practices > 6. Handling Asynchronous Context": the basic reload of module
-- `name` (the guide's 5 steps), used by the drivers while the timer runs.
return function(name)
    local patch = require "silly.patch"
    local old = require(name)
    package.loaded[name] = nil
    local new = require(name)
    package.loaded[name] = old
    local P = patch.new()
    local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
    for k, fn in pairs(new) do
        if type(fn) == "function" then
            old[k] = fn
        end
    end
    return absent, conflicts
end
