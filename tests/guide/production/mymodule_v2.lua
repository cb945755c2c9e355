-- Guide: "Production Environment Practices": the fix: logins are counted and logout exists.
local M = {}
local sessions = {}
local logins = 0
function M.login(user)
    logins = logins + 1
    sessions[user] = true
end
function M.logout(user)
    sessions[user] = nil
end
function M.online(user)
    return sessions[user] == true
end
function M.logins()
    return logins
end
return M
