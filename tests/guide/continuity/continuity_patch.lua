-- Guide: "Basic Concepts > Upvalue Continuity", the silly.patch snippet as written. The
-- first four lines (the wrapper) load the module's new version next to the old one.
local old_module = require "counter"
package.loaded["counter"] = nil
local new_module = require "counter"
package.loaded["counter"] = old_module
-- Use silly.patch to maintain upvalue continuity
local patch = require "silly.patch"
local P = patch.new()
-- Collect upvalues of old and new functions
local up_old = P:collectupval(old_module)
local up_new = P:collectupval(new_module)
-- Connect upvalues (new function uses old function's upvalues)
P:join(up_new, up_old)
-- Replace function reference
old_module.increment = new_module.increment
-- Result: new function inherits old function's count value (100)
