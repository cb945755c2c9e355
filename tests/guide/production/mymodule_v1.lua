-- Guide: "Production Environment Practices": the running module (written for the test).
local M = {}
local sessions = {}
function M.login(user)
    sessions[user] = true
end
function M.online(user)
    return sessions[user] == true
end
return M
