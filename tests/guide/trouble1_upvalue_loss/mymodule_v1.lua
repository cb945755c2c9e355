-- Guide: "Troubleshooting > Common Error 1: Upvalue Loss": the running module, version 1
-- (written for the test). `config` is initialised lazily, by init().
local M = {}
local config
function M.init(opts)
    config = {timeout = opts.timeout}
end
function M.get_timeout()
    return config.timeout
end
return M
