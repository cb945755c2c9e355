#!/usr/bin/env lua
--[[ A small realistic program: a JSON-ish encoder, a queue, and a tiny class system.
     It exercises long comments, methods, metatables and string escapes. ]]

local Queue = {}
Queue.__index = Queue

function Queue.new()
  return setmetatable({ first = 1, last = 0, items = {} }, Queue)
end

function Queue:push(v)
  self.last = self.last + 1
  self.items[self.last] = v
end

function Queue:pop()
  if self.first > self.last then return nil end
  local v = self.items[self.first]
  self.items[self.first] = nil
  self.first = self.first + 1
  return v
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }

local function encode(v, depth)
  depth = depth or 0
  local ty = type(v)
  if ty == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do
      local val = v[k] ~= nil and v[k] or v[tonumber(k)]
      parts[#parts + 1] = string.format("%q:%s", k, encode(val, depth + 1))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif ty == "string" then
    return '"' .. v:gsub('[%c"\\]', escapes) .. '"'
  elseif ty == "number" and v ~= v then
    return "null"
  else
    return tostring(v)
  end
end

local Animal = {} ; Animal.__index = Animal
function Animal.new(name, sound) return setmetatable({ name = name, sound = sound }, Animal) end
function Animal:speak() return self.name .. " says " .. self.sound end

local Dog = setmetatable({}, { __index = Animal }) ; Dog.__index = Dog
function Dog.new(name) local d = Animal.new(name, "woof") ; return setmetatable(d, Dog) end
function Dog:fetch(n) local s = "" for _ = 1, n do s = s .. "!" end return s end

local q = Queue.new()
for i = 1, 5 do q:push(i * i) end
local total = 0
while true do
  local v = q:pop()
  if not v then break end
  total = total + v
end
print("queue total", total)
print(encode({ a = 1, b = { c = "x\ty", d = true }, [1] = "one" }))
local rex = Dog.new("Rex")
print(rex:speak(), rex:fetch(3))
print(("%5.2f|%-4s|%x"):format(math.pi, "ab", 255))
return { Queue = Queue, encode = encode }
