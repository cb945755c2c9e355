-- Guide: "Troubleshooting > Common Error 1: Upvalue Loss": version 2 (timeouts in ms and a
-- new `retries` setting). Its own `config` is nil until init() runs again, so a new
-- get_timeout that is not connected to the old `config` fails.
local M = {}
local config
local retries = 3
function M.init(opts)
    config = {timeout = opts.timeout}
end
function M.get_timeout()
    return config.timeout * 1000
end
function M.get_retries()
    return retries
end
return M
