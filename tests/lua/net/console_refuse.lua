-- A non-loopback console needs allow_remote = true and a token; the default is loopback.
local console = require "silly.console"
local function try(conf)
  local ok, err = pcall(console, conf)
  return ok, (type(err) == "string" and err:gsub("^[^:]*:%d+: ", "") or err)
end
print("remote without opt-in", try{addr = "0.0.0.0:1"})
print("remote without token", try{addr = "0.0.0.0:1", allow_remote = true})
print("token with a space", try{addr = "127.0.0.1:0", token = "two words"})
print("token too short", try{addr = "127.0.0.1:0", token = "short"})
print("empty token", try{addr = "127.0.0.1:0", token = ""})
print("token with a tab", try{addr = "127.0.0.1:0", token = "tab\there-1234"})
print("token not a string", try{addr = "127.0.0.1:0", token = 12345678})
local l = console{addr = "127.0.0.1:0"}
print("loopback by default", l.addr:match("^127%.0%.0%.1:") ~= nil)
l:close()
