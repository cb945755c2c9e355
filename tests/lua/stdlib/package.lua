-- package and require, run with the scripts' own package.path (both interpreters).
package.path = "./pkg/?.lua;./pkg/?/init.lua"
package.cpath = ""
local function perr(f, ...) print(pcall(f, ...)) end
print(package.config == "/\n;\n?\n!\n-\n", type(package.loaded), type(package.preload), #package.searchers)
print(package.loaded._G == _G, package.loaded.string == string, package.loaded.table == table)
perr(require, "nope")
perr(require, "a.b")
local m, d = require("mod1")
print(m.name, m.file, d)
print(require("mod1") == m, select("#", require("mod1")))
perr(require, "bad")
print(require("nilmod"), package.loaded.nilmod, loadcount)
print(require("nilmod"), loadcount)
print(require("sub"))
print(require("sub.leaf"))
package.preload.pre = function(...) print("preload args", ...) return "P" end
print(require("pre"))
print(package.searchpath("mod1", package.path))
print(package.searchpath("zz", "./?.x;/a/?.y"))
print(package.searchpath("a.b.c", "?;", "."))
print(package.searchpath("a_b", "?", "_", "+"))
-- the guide's reload idiom
local old = require("reload")
package.loaded.reload = nil
local new = require("reload")
package.loaded.reload = old
print(new ~= old, package.loaded.reload == old, new.get())
-- searchers is a real table a script can change
table.insert(package.searchers, 1, function(n)
  if n == "magic" then return function(a, b) return a .. "/" .. tostring(b) end, 42 end
  return "\n\tno magic"
end)
print(require("magic"))
perr(require, "nope2")
table.remove(package.searchers, 1)
package.searchers[5] = function() return nil end
perr(require, "nope3")
package.searchers[5] = nil
local saved = package.searchers
package.searchers = nil
perr(require, "zzz")
package.searchers = saved
package.path = 42
perr(require, "zzz")
package.path = "./pkg/?.lua"
perr(require)
print(require("selfreg").selfreg, package.loaded.selfreg.selfreg)
perr(require, "failing")
print(package.loaded.failing)
-- a C library found on package.cpath cannot be loaded
package.cpath = "./pkg/?.lua"
perr(require, "nope4")
print(package.loadlib("x", "y") == nil)
print("package done")
