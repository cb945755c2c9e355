-- issue 13 item 3 "Module table fields" (spec/patch.md): functions are updated in place or
-- installed; non-function fields take the new chunk's value unless the new version lists
-- them in `__keep` (kept; a kept plain table gets the keys it lacks); fields the new chunk
-- does not define stay, except functions whose declaration is gone.
local S = require "support"
local reload = require "hotlua.reload"
S.install("mods/fields_v1.lua", "fields.lua")
local M = require "fields"
M.settings.timeout = 60
M.runtime = "set at run time"
local settings = M.settings
S.install("mods/fields_v2.lua", "fields.lua")
local ok, report = reload.apply({"fields"})
local f = report.modules.fields.fields
print("apply", ok)
print("updated", S.join(f.updated))
print("replaced", S.join(f.replaced))
print("added", S.join(f.added))
print("removed", S.join(f.removed))
print("kept", S.join(f.kept))
print("merged", S.join(f.merged))
print(M.VERSION, M.limits.max, M.settings == settings, M.settings.timeout, M.settings.retries)
print(M.hello(), M.added(), M.old_only, M.runtime)
