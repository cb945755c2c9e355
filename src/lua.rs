//! The [`Lua`] state's constructors and its methods that make values, run the collector,
//! and set limits: [`StdLib`], [`LuaOptions`], [`RegistryKey`].

use std::sync::Arc;

use hotlua_stdlib::open::{open_selected, Libs};
use hotlua_vm::host::Signal;
use hotlua_vm::{Value as Raw, Vm};

use crate::conversion::{FromLua, IntoLua};
use crate::error::{Error, Result};
use crate::function::{create_callback, mut_callback};
use crate::multi::{FromLuaMulti, IntoLuaMulti};
use crate::state::{Lua, ValueRef};
use crate::value::Value;
use crate::{Function, String, Table, Thread};

/// Which standard libraries a state opens (combine with `|`). The base library (`print`,
/// `pcall`, `load`, ...) is always there.
///
/// ```
/// use hotlua::{Lua, LuaOptions, StdLib};
/// let lua = Lua::new_with(StdLib::STRING | StdLib::TABLE, LuaOptions::new()).unwrap();
/// let n: i64 = lua.load("return #string.rep('x', 3)").eval().unwrap();
/// assert_eq!(n, 3);
/// assert!(lua.load("return io").eval::<hotlua::Value>().unwrap().is_nil());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StdLib(u32);

impl StdLib {
    /// `coroutine`.
    pub const COROUTINE: StdLib = StdLib(1);
    /// `table`.
    pub const TABLE: StdLib = StdLib(1 << 1);
    /// `io`.
    pub const IO: StdLib = StdLib(1 << 2);
    /// `os`.
    pub const OS: StdLib = StdLib(1 << 3);
    /// `string`.
    pub const STRING: StdLib = StdLib(1 << 4);
    /// `utf8`.
    pub const UTF8: StdLib = StdLib(1 << 5);
    /// `math`.
    pub const MATH: StdLib = StdLib(1 << 6);
    /// `package` and `require`.
    pub const PACKAGE: StdLib = StdLib(1 << 7);
    /// `debug`. Sound in hotlua (no Lua program can break memory safety with it), but it
    /// lets code reach any value (the registry, other functions' upvalues): leave it out of
    /// sandboxes.
    pub const DEBUG: StdLib = StdLib(1 << 8);
    /// The silly runtime: `require "silly.time"`, `silly.task`, `silly.logger`, sockets,
    /// the console, `silly.patch` (needs `PACKAGE`).
    pub const SILLY: StdLib = StdLib(1 << 9);
    /// No library but the base one.
    pub const NONE: StdLib = StdLib(0);
    /// Every library.
    pub const ALL: StdLib = StdLib((1 << 10) - 1);
    /// Every library but `debug`.
    pub const ALL_SAFE: StdLib = StdLib(((1 << 10) - 1) & !(1 << 8));

    /// True when every library of `other` is included.
    pub fn contains(self, other: StdLib) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for StdLib {
    type Output = StdLib;
    fn bitor(self, o: StdLib) -> StdLib {
        StdLib(self.0 | o.0)
    }
}

impl std::ops::BitOrAssign for StdLib {
    fn bitor_assign(&mut self, o: StdLib) {
        self.0 |= o.0;
    }
}

impl std::ops::BitAnd for StdLib {
    type Output = StdLib;
    fn bitand(self, o: StdLib) -> StdLib {
        StdLib(self.0 & o.0)
    }
}

impl std::ops::Not for StdLib {
    type Output = StdLib;
    fn not(self) -> StdLib {
        StdLib(!self.0 & StdLib::ALL.0)
    }
}

/// Options of a new state.
#[derive(Clone, Copy, Debug)]
pub struct LuaOptions {
    catch_rust_panics: bool,
}

impl Default for LuaOptions {
    fn default() -> LuaOptions {
        LuaOptions::new()
    }
}

impl LuaOptions {
    /// The defaults: panics in callbacks are caught.
    pub const fn new() -> LuaOptions {
        LuaOptions {
            catch_rust_panics: true,
        }
    }

    /// Whether a panic in a Rust callback stays a Lua error (`true`, the default) or, once
    /// the VM has unwound to the host call, continues as a panic in the host (`false`).
    /// Either way the panic never unwinds through the VM, and the state stays usable.
    pub const fn catch_rust_panics(mut self, enabled: bool) -> LuaOptions {
        self.catch_rust_panics = enabled;
        self
    }

    /// Accepted for mlua compatibility; hotlua keeps no thread pool.
    pub const fn thread_pool_size(self, _size: usize) -> LuaOptions {
        self
    }
}

impl Default for Lua {
    fn default() -> Lua {
        Lua::new()
    }
}

impl Lua {
    /// A state with every standard library (`debug` included) and the silly runtime.
    pub fn new() -> Lua {
        Lua::build(StdLib::ALL, LuaOptions::new())
    }

    /// A state with the libraries in `libs` (plus the base library).
    pub fn new_with(libs: StdLib, options: LuaOptions) -> Result<Lua> {
        if libs.contains(StdLib::SILLY) && !libs.contains(StdLib::PACKAGE) {
            return Err(Error::runtime(
                "StdLib::SILLY needs StdLib::PACKAGE (its modules are loaded with require)",
            ));
        }
        Ok(Lua::build(libs, options))
    }

    fn build(libs: StdLib, options: LuaOptions) -> Lua {
        let mut vm = Vm::new();
        open_selected(&mut vm, Libs(libs.0));
        Lua::from_vm(vm, options.catch_rust_panics)
    }

    /// The globals table (`_G`).
    pub fn globals(&self) -> Table {
        match self.with_vm(|inner, vm| Ok(Table(inner.new_ref(Raw::Table(vm.globals()))))) {
            Ok(t) => t,
            Err(e) => panic!("hotlua: globals of an unusable state: {e}"),
        }
    }

    /// A new empty table.
    pub fn create_table(&self) -> Result<Table> {
        self.create_table_with_capacity(0, 0)
    }

    /// A new table with room for `narr` sequence values and `nrec` other entries.
    pub fn create_table_with_capacity(&self, narr: usize, nrec: usize) -> Result<Table> {
        match self.make(|vm| Raw::Table(vm.heap.new_table_with(narr, nrec)))? {
            Value::Table(t) => Ok(t),
            _ => Err(Error::runtime("a table was not made")),
        }
    }

    /// A new string (any bytes).
    pub fn create_string(&self, s: impl AsRef<[u8]>) -> Result<String> {
        let bytes = s.as_ref();
        let v = self.with_vm(|inner, vm| {
            vm.reserve_bytes(bytes.len())
                .map_err(|e| inner.error_from(vm, e))?;
            vm.gc_check_limit().map_err(|e| inner.error_from(vm, e))?;
            Ok(inner.wrap(Raw::Str(vm.new_str(bytes))))
        })?;
        match v {
            Value::String(s) => Ok(s),
            _ => Err(Error::runtime("a string was not made")),
        }
    }

    /// A new table `{v1, v2, ...}`.
    pub fn create_sequence_from<T: IntoLua>(
        &self,
        iter: impl IntoIterator<Item = T>,
    ) -> Result<Table> {
        let iter = iter.into_iter();
        let t = self.create_table_with_capacity(iter.size_hint().0, 0)?;
        for (i, v) in iter.enumerate() {
            t.raw_set(i as i64 + 1, v)?;
        }
        Ok(t)
    }

    /// A new table with the given entries (a nil value leaves its key out).
    pub fn create_table_from<K: IntoLua, V: IntoLua>(
        &self,
        iter: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Table> {
        let t = self.create_table()?;
        for (k, v) in iter {
            t.raw_set(k, v)?;
        }
        Ok(t)
    }

    /// A Lua function running the Rust closure `func`, which may capture state. Its
    /// arguments and results convert as their types say; an error it returns is raised in
    /// Lua (catchable by `pcall`), and a panic becomes such an error too.
    ///
    /// ```
    /// use hotlua::Lua;
    /// let lua = Lua::new();
    /// let prefix = String::from(">> ");
    /// let f = lua.create_function(move |_, s: String| Ok(format!("{prefix}{s}"))).unwrap();
    /// lua.globals().set("show", f).unwrap();
    /// assert_eq!(lua.load("return show('hi')").eval::<String>().unwrap(), ">> hi");
    /// ```
    pub fn create_function<F, A, R>(&self, func: F) -> Result<Function>
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        create_callback(
            self,
            Box::new(move |lua, args| {
                func(lua, A::from_lua_multi(args, lua)?)?.into_lua_multi(lua)
            }),
        )
    }

    /// Like [`Lua::create_function`] for a `FnMut`; calling it again while it runs (from
    /// Lua code it called) is [`Error::RecursiveMutCallback`].
    ///
    /// ```
    /// use hotlua::Lua;
    /// let lua = Lua::new();
    /// let mut count = 0;
    /// let tick = lua.create_function_mut(move |_, ()| { count += 1; Ok(count) }).unwrap();
    /// tick.call::<()>(()).unwrap();
    /// assert_eq!(tick.call::<i64>(()).unwrap(), 2);
    /// ```
    pub fn create_function_mut<F, A, R>(&self, mut func: F) -> Result<Function>
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let cb = mut_callback(move |lua: &Lua, args| {
            let a = A::from_lua_multi(args, lua)?;
            func(lua, a)?.into_lua_multi(lua)
        });
        create_callback(self, Box::new(cb))
    }

    /// A new coroutine whose body is `func`.
    pub fn create_thread(&self, func: Function) -> Result<Thread> {
        let v = self.with_vm(|inner, vm| {
            vm.gc_check_limit().map_err(|e| inner.error_from(vm, e))?;
            let f = inner.raw_ref(&func.0)?;
            Ok(inner.wrap(Raw::Thread(vm.new_thread(f))))
        })?;
        match v {
            Value::Thread(t) => Ok(t),
            _ => Err(Error::runtime("a thread was not made")),
        }
    }

    /// Runs a full collection cycle (finalizers included).
    pub fn gc_collect(&self) -> Result<()> {
        self.with_vm(|_, vm| {
            vm.full_gc();
            Ok(())
        })
    }

    /// One step of the collector; true when a cycle finished (hotlua's collector runs a
    /// whole cycle per step, so this is always true).
    pub fn gc_step(&self) -> Result<bool> {
        self.gc_collect().map(|()| true)
    }

    /// Stops automatic collection (an explicit [`Lua::gc_collect`] still collects, and the
    /// memory limit is still enforced).
    pub fn gc_stop(&self) {
        let _ = self.with_vm(|_, vm| {
            vm.heap.set_running(false);
            Ok(())
        });
    }

    /// Restarts automatic collection.
    pub fn gc_restart(&self) {
        let _ = self.with_vm(|_, vm| {
            vm.heap.set_running(true);
            Ok(())
        });
    }

    /// True while automatic collection runs.
    pub fn gc_is_running(&self) -> bool {
        self.with_vm(|_, vm| Ok(vm.heap.is_running()))
            .unwrap_or(false)
    }

    /// Bytes the state's heap uses now (objects and what they own).
    pub fn used_memory(&self) -> usize {
        self.with_vm(|_, vm| Ok(vm.heap.total_bytes())).unwrap_or(0)
    }

    /// Limits the heap to `limit` bytes (0: no limit) and returns the previous limit.
    /// Going over it is a Lua error, "not enough memory" ([`Error::MemoryError`] in Rust),
    /// which `pcall` can catch; the state stays usable. A failed allocation is the same
    /// error, never an abort, for the large allocations a script can ask for (strings,
    /// tables, stacks).
    ///
    /// ```
    /// use hotlua::{Error, Lua};
    /// let lua = Lua::new();
    /// lua.set_memory_limit(lua.used_memory() + (1 << 20)).unwrap();
    /// let e = lua.load("local t = {} for i = 1, 1e7 do t[i] = {} end").exec().unwrap_err();
    /// assert!(matches!(e, Error::MemoryError(_)));
    /// lua.set_memory_limit(0).unwrap();
    /// assert_eq!(lua.load("return 1 + 1").eval::<i64>().unwrap(), 2);
    /// ```
    pub fn set_memory_limit(&self, limit: usize) -> Result<usize> {
        self.with_vm(|_, vm| Ok(vm.heap.set_limit(limit)))
    }

    /// Keeps `value` alive in the state until the key is removed or dropped.
    ///
    /// ```
    /// use hotlua::Lua;
    /// let lua = Lua::new();
    /// let key = lua.create_registry_value("kept").unwrap();
    /// lua.gc_collect().unwrap();
    /// assert_eq!(lua.registry_value::<String>(&key).unwrap(), "kept");
    /// ```
    pub fn create_registry_value<T: IntoLua>(&self, value: T) -> Result<RegistryKey> {
        let v = value.into_lua(self)?;
        let slot = self.with_vm(|inner, vm| {
            let raw = inner.raw(vm, &v)?;
            Ok(inner.roots.insert(raw))
        })?;
        Ok(RegistryKey(ValueRef {
            lua: self.weak(),
            slot,
        }))
    }

    /// The value behind `key`.
    pub fn registry_value<T: FromLua>(&self, key: &RegistryKey) -> Result<T> {
        let v = self.with_vm(|inner, _| {
            let raw = inner
                .raw_ref(&key.0)
                .map_err(|_| Error::MismatchedRegistryKey)?;
            Ok(inner.wrap(raw))
        })?;
        T::from_lua(v, self)
    }

    /// Replaces the value behind `key`.
    pub fn replace_registry_value<T: IntoLua>(&self, key: &RegistryKey, value: T) -> Result<()> {
        let v = value.into_lua(self)?;
        self.with_vm(|inner, vm| {
            inner
                .raw_ref(&key.0)
                .map_err(|_| Error::MismatchedRegistryKey)?;
            let raw = inner.raw(vm, &v)?;
            inner.roots.set(key.0.slot, raw);
            Ok(())
        })
    }

    /// Removes the value behind `key` (as dropping the key does).
    pub fn remove_registry_value(&self, key: RegistryKey) -> Result<()> {
        if !self.owns_registry_value(&key) {
            return Err(Error::MismatchedRegistryKey);
        }
        drop(key);
        Ok(())
    }

    /// True when `key` belongs to this state.
    pub fn owns_registry_value(&self, key: &RegistryKey) -> bool {
        std::rc::Weak::ptr_eq(&key.0.lua.0, &self.inner.weak)
    }

    /// Accepted for mlua compatibility: removed keys free their values at once here.
    pub fn expire_registry_values(&self) {}

    /// Stores `value` in the Lua registry under `name` (reachable from Lua through
    /// `debug.getregistry()[name]`).
    pub fn set_named_registry_value<T: IntoLua>(&self, name: &str, value: T) -> Result<()> {
        let v = value.into_lua(self)?;
        let k = self.create_string(name)?;
        self.with_vm(|inner, vm| {
            let reg = vm.registry();
            let kr = inner.raw_ref(&k.0)?;
            crate::table::with_raws(inner, vm, &[&v], |vm, r| {
                vm.raw_set(reg, kr, r[0])
                    .map_err(|e| inner.error_from(vm, e))
            })
        })
    }

    /// The value stored in the Lua registry under `name`.
    pub fn named_registry_value<T: FromLua>(&self, name: &str) -> Result<T> {
        let k = self.create_string(name)?;
        let v = self.with_vm(|inner, vm| {
            let reg = vm.registry();
            let kr = inner.raw_ref(&k.0)?;
            Ok(inner.wrap(reg.get().get(kr)))
        })?;
        T::from_lua(v, self)
    }

    /// Removes the value stored in the Lua registry under `name`.
    pub fn unset_named_registry_value(&self, name: &str) -> Result<()> {
        self.set_named_registry_value(name, Value::Nil)
    }

    /// A handle another thread may use to stop the Lua code this state runs.
    ///
    /// ```
    /// use hotlua::Lua;
    /// let lua = Lua::new();
    /// let stop = lua.interrupt_handle();
    /// let watchdog = std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_millis(50));
    ///     stop.interrupt();
    /// });
    /// let e = lua.load("while true do end").exec().unwrap_err();
    /// assert!(e.to_string().contains("interrupted"));
    /// watchdog.join().unwrap();
    /// // The state stays usable.
    /// assert_eq!(lua.load("return 7").eval::<i64>().unwrap(), 7);
    /// ```
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            signal: self.inner.signal.clone(),
        }
    }
}

/// Stops the Lua code a state is running, from any thread (see [`Lua::interrupt_handle`]).
///
/// The running code stops at its next check (a loop iteration, a call, or every few
/// thousand steps of a long built-in such as pattern matching, `string.rep`,
/// `table.concat` or `table.sort`) with the error "interrupted", which unwinds to the host
/// call that was running: `pcall` inside the script cannot hold it (the interrupt stays
/// requested until that host call returns). An interrupt asked for while no Lua code runs
/// is dropped when the next host call starts.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    signal: Arc<Signal>,
}

impl InterruptHandle {
    /// Asks the running Lua code to stop.
    pub fn interrupt(&self) {
        self.signal.interrupt();
    }
}

/// A value kept alive in a state until the key is dropped or removed (see
/// [`Lua::create_registry_value`]). Unlike other handles, a key is tied to no Lua type.
pub struct RegistryKey(pub(crate) ValueRef);

impl std::fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistryKey({})", self.0.slot)
    }
}
