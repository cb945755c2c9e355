local M = {}
M.VERSION = "2.0"
M.limits = {max = 20}
-- State to keep: the running table stays; keys it lacks are merged in.
M.settings = {timeout = 5, retries = 3}
M.__keep = {"settings"}
function M.hello()
    return "hello v2"
end
function M.added()
    return "added"
end
return M
