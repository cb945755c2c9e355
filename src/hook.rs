//! The host's hook: [`HookTriggers`], [`Debug`], [`VmState`], [`Lua::set_hook`].

use std::rc::Rc;

use hotlua_vm::hooks::{HookEvent, HostHookFn, MASK_CALL, MASK_COUNT, MASK_LINE, MASK_RET};
use hotlua_vm::thread::FrameKind;
use hotlua_vm::Vm;

use crate::error::{Error, Result};
use crate::function::panic_message;
use crate::state::Lua;

/// When the host's hook is called.
///
/// ```
/// use hotlua::HookTriggers;
/// let t = HookTriggers::new().on_calls().every_nth_instruction(1000);
/// assert!(t.on_calls && !t.every_line);
/// assert_eq!(t.every_nth_instruction, Some(1000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HookTriggers {
    /// Before a function is called.
    pub on_calls: bool,
    /// When a function returns.
    pub on_returns: bool,
    /// Before a new line runs.
    pub every_line: bool,
    /// Every `n` instructions.
    pub every_nth_instruction: Option<u32>,
}

impl HookTriggers {
    /// No trigger.
    pub const fn new() -> HookTriggers {
        HookTriggers {
            on_calls: false,
            on_returns: false,
            every_line: false,
            every_nth_instruction: None,
        }
    }
    /// Calls only.
    pub const ON_CALLS: HookTriggers = HookTriggers::new().on_calls();
    /// Returns only.
    pub const ON_RETURNS: HookTriggers = HookTriggers::new().on_returns();
    /// Lines only.
    pub const EVERY_LINE: HookTriggers = HookTriggers::new().every_line();

    /// Adds calls.
    pub const fn on_calls(mut self) -> HookTriggers {
        self.on_calls = true;
        self
    }
    /// Adds returns.
    pub const fn on_returns(mut self) -> HookTriggers {
        self.on_returns = true;
        self
    }
    /// Adds lines.
    pub const fn every_line(mut self) -> HookTriggers {
        self.every_line = true;
        self
    }
    /// Adds a count: every `n` instructions.
    pub const fn every_nth_instruction(mut self, n: u32) -> HookTriggers {
        self.every_nth_instruction = Some(n);
        self
    }

    fn mask(&self) -> (u8, u32) {
        let mut m = 0;
        if self.on_calls {
            m |= MASK_CALL;
        }
        if self.on_returns {
            m |= MASK_RET;
        }
        if self.every_line {
            m |= MASK_LINE;
        }
        let count = self.every_nth_instruction.unwrap_or(0);
        if count > 0 {
            m |= MASK_COUNT;
        }
        (m, count)
    }
}

impl std::ops::BitOr for HookTriggers {
    type Output = HookTriggers;
    fn bitor(self, o: HookTriggers) -> HookTriggers {
        HookTriggers {
            on_calls: self.on_calls || o.on_calls,
            on_returns: self.on_returns || o.on_returns,
            every_line: self.every_line || o.every_line,
            every_nth_instruction: self.every_nth_instruction.or(o.every_nth_instruction),
        }
    }
}

/// What the hook tells the VM to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmState {
    /// Go on.
    Continue,
    /// Yield the running coroutine (not supported by hotlua's hooks: it is an error).
    Yield,
}

/// The event a hook is called for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugEvent {
    /// A call.
    Call,
    /// A return.
    Ret,
    /// A tail call.
    TailCall,
    /// A new line.
    Line,
    /// The instruction count elapsed.
    Count,
}

/// Where the hooked function comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugSource {
    /// The chunk name (`@file`, `=name`, or the source text), `None` for Rust functions.
    pub source: Option<std::string::String>,
    /// The chunk name as messages show it.
    pub short_src: Option<std::string::String>,
    /// The line where the function is defined (`None` for Rust functions).
    pub line_defined: Option<usize>,
    /// The line where its definition ends.
    pub last_line_defined: Option<usize>,
    /// `"Lua"`, `"C"` (Rust) or `"main"`.
    pub what: &'static str,
}

/// What a hook sees: the event and the function running.
pub struct Debug<'a> {
    lua: &'a Lua,
    event: DebugEvent,
    line: Option<u32>,
}

impl Debug<'_> {
    /// The event.
    pub fn event(&self) -> DebugEvent {
        self.event
    }

    /// True for a tail call event.
    pub fn is_tail_call(&self) -> bool {
        self.event == DebugEvent::TailCall
    }

    /// The current line of the running Lua function (-1 when unknown).
    pub fn curr_line(&self) -> i32 {
        if let Some(l) = self.line {
            return l as i32;
        }
        self.lua
            .with_vm(|_, vm| {
                Ok(match top_frame(vm) {
                    Some(ci) if ci.kind == FrameKind::Lua => match ci.proto {
                        Some(p) => p
                            .get()
                            .current_line(ci.pc.saturating_sub(1))
                            .map_or(-1, |l| l as i32),
                        None => -1,
                    },
                    _ => -1,
                })
            })
            .unwrap_or(-1)
    }

    /// Where the running function comes from.
    pub fn source(&self) -> DebugSource {
        self.lua
            .with_vm(|_, vm| {
                Ok(match top_frame(vm) {
                    Some(ci) if ci.kind == FrameKind::Lua => match ci.proto {
                        Some(p) => {
                            let p = p.get();
                            DebugSource {
                                source: Some(p.source.to_string()),
                                short_src: Some(hotlua_compiler::error::chunk_id(&p.source)),
                                line_defined: Some(p.line_defined as usize),
                                last_line_defined: Some(p.last_line_defined as usize),
                                what: if p.line_defined == 0 { "main" } else { "Lua" },
                            }
                        }
                        None => c_source(),
                    },
                    _ => c_source(),
                })
            })
            .unwrap_or_else(|_| c_source())
    }
}

fn c_source() -> DebugSource {
    DebugSource {
        source: Some("=[C]".into()),
        short_src: Some("[C]".into()),
        line_defined: None,
        last_line_defined: None,
        what: "C",
    }
}

fn top_frame(vm: &Vm) -> Option<hotlua_vm::thread::CallInfo> {
    vm.cur.get().frames.last().copied()
}

impl Lua {
    /// Sets the host's hook: `callback` runs on the `triggers` events in every coroutine and
    /// task of the state. Lua code cannot see, replace or remove it (`debug.sethook` sets a
    /// separate hook), and it keeps firing while a Lua debug hook runs. An error it returns
    /// stops the running Lua code with that error; as in PUC Lua and mlua, that error is an
    /// ordinary Lua error, which a `pcall` in the script can catch. For a budget the script
    /// cannot escape, also raise the state's [`InterruptHandle`](crate::InterruptHandle) from
    /// the hook: an interrupt stays raised, so every later check stops the code again.
    ///
    /// ```
    /// use hotlua::{Error, HookTriggers, Lua, VmState};
    /// let lua = Lua::new();
    /// // An instruction budget: stop scripts after about a million instructions.
    /// let budget = std::cell::Cell::new(1000);
    /// lua.set_hook(HookTriggers::new().every_nth_instruction(1000), move |_, _| {
    ///     budget.set(budget.get() - 1);
    ///     if budget.get() == 0 { Err(Error::runtime("budget exceeded")) } else { Ok(VmState::Continue) }
    /// });
    /// let e = lua.load("debug.sethook() while true do end").exec().unwrap_err();
    /// assert!(e.to_string().contains("budget exceeded"));
    /// lua.remove_hook();
    /// ```
    pub fn set_hook<F>(&self, triggers: HookTriggers, callback: F)
    where
        F: Fn(&Lua, Debug) -> Result<VmState> + 'static,
    {
        let (mask, count) = triggers.mask();
        let weak = self.inner.weak.clone();
        let hook: Rc<HostHookFn> = Rc::new(move |vm: &mut Vm, ev: HookEvent, line: Option<u32>| {
            let Some(inner) = weak.upgrade() else {
                return Ok(());
            };
            let lua = Lua {
                inner: inner.clone(),
            };
            let event = match ev {
                HookEvent::Call => DebugEvent::Call,
                HookEvent::TailCall => DebugEvent::TailCall,
                HookEvent::Return => DebugEvent::Ret,
                HookEvent::Line => DebugEvent::Line,
                HookEvent::Count => DebugEvent::Count,
            };
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                inner.enter_callback(vm, || {
                    callback(
                        &lua,
                        Debug {
                            lua: &lua,
                            event,
                            line,
                        },
                    )
                })
            }));
            match r {
                Ok(Ok(VmState::Continue)) => Ok(()),
                Ok(Ok(VmState::Yield)) => Err(inner.raise(
                    vm,
                    Error::runtime("VmState::Yield is not supported by hotlua's hooks"),
                )),
                Ok(Err(e)) => Err(inner.raise(vm, e)),
                Err(p) => {
                    let msg = panic_message(&*p);
                    if !inner.catch_panics {
                        *inner.pending_panic.borrow_mut() = Some(p);
                    }
                    Err(inner.raise(vm, Error::runtime(format!("a Rust hook panicked: {msg}"))))
                }
            }
        });
        let _ = self.with_vm(|_, vm| {
            vm.set_host_hook(Some((hook, mask, count)));
            Ok(())
        });
    }

    /// Removes the host's hook (a Lua debug hook stays).
    pub fn remove_hook(&self) {
        let _ = self.with_vm(|_, vm| {
            vm.set_host_hook(None);
            Ok(())
        });
    }
}
