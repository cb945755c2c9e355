-- Guide: "Troubleshooting > Common Error 1: Upvalue Loss": version 2 (timeouts in ms; init
-- records a new `retries`, absent). Its own `config` is nil until init() runs again, so a
-- new get_timeout that is not connected to the old `config` fails.
local M = {}
local config
local retries = 3
function M.init(opts)
    config = {timeout = opts.timeout, retries = retries}
end
function M.get_timeout()
    return config.timeout * 1000
end
function M.get_retries()
    return retries
end
return M
