//! Hot patching from Rust: [`Lua::reload_module`].

use crate::error::{Error, Result};
use crate::state::Lua;
use crate::table::Table;
use crate::Function;

/// What a reload did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Module functions now running the new code (field names, sorted).
    pub replaced: Vec<String>,
    /// Upvalue paths the new version has and the old one had not (they start fresh).
    pub absent: Vec<String>,
    /// Upvalue paths whose value changed type between the versions (the old value stays).
    pub conflicts: Vec<String>,
}

/// The guide's reload, as one Lua function: load the new version, join its upvalues to the
/// old version's cells (`silly.patch`), then replace the old module's functions.
const RELOAD: &str = r#"
local name, source = ...
local patch = require "silly.patch"
local old = package.loaded[name]
if type(old) ~= "table" then
  error("module '" .. name .. "' is not loaded (or is not a table)", 0)
end
local chunk, err = load(source, "@" .. name)
if not chunk then error(err, 0) end
local new = chunk(name)
if type(new) ~= "table" then
  error("the new version of '" .. name .. "' did not return a table", 0)
end
local P = patch.new()
local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
local replaced = {}
for k, v in pairs(new) do
  if type(v) == "function" then
    old[k] = v
    replaced[#replaced + 1] = tostring(k)
  end
end
table.sort(replaced)
return replaced, absent, conflicts
"#;

impl Lua {
    /// Hot-patches the loaded module `name` with new `source`, keeping its state: the new
    /// version's functions join the old version's upvalue cells and replace the old
    /// module's functions, so every caller that looks them up in the module table runs the
    /// new code and sees the same state. Needs the silly runtime (`StdLib::SILLY`).
    ///
    /// ```
    /// use hotlua::Lua;
    /// let lua = Lua::new();
    /// lua.load(r#"package.preload.counter = function()
    ///     local n = 0
    ///     return { hit = function() n = n + 1; return n end }
    /// end"#).exec().unwrap();
    /// lua.load("counter = require 'counter'; counter.hit(); counter.hit()").exec().unwrap();
    /// let report = lua.reload_module("counter", r#"
    ///     local n = 0
    ///     return { hit = function() n = n + 10; return n end }
    /// "#).unwrap();
    /// assert_eq!(report.replaced, ["hit"]);
    /// // The count survived the patch; the new code runs.
    /// assert_eq!(lua.load("return counter.hit()").eval::<i64>().unwrap(), 12);
    /// ```
    pub fn reload_module(&self, name: &str, source: impl AsRef<[u8]>) -> Result<ReloadReport> {
        let f: Function = self
            .load(RELOAD)
            .set_name("=[hotlua.reload]")
            .into_function()?;
        let src = self.create_string(source)?;
        let (replaced, absent, conflicts): (Table, Table, Table) = f.call((name, src))?;
        let list = |t: Table| -> Result<Vec<String>> {
            t.sequence_values::<String>().collect::<Result<Vec<_>>>()
        };
        Ok(ReloadReport {
            replaced: list(replaced)?,
            absent: list(absent)?,
            conflicts: list(conflicts)?,
        })
        .map_err(|e: Error| e)
    }
}
