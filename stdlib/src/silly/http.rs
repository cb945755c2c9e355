//! `silly.net.http`: an HTTP/1.1 server on silly.net.tcp (see spec/http.md).
//!
//! Request heads are parsed here with the `httparse` crate; everything else (bodies,
//! keep-alive, responses, handler errors) lives in `http.lua`, compiled into the module.
//! Invariant: `parse` never fails on user bytes: garbage answers `nil, "bad request"`.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use crate::open::set_field;

/// The Lua half: its chunk receives the primitives and returns the module table.
const LUA_SOURCE: &str = include_str!("http.lua");

/// Most header lines one request may carry.
const MAX_HEADERS: usize = 100;

/// Builds the `silly.net.http` module.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let c = vm.new_table();
    set_field(vm, c, "parse", Value::LightFn(parse));
    let built = vm
        .load(LUA_SOURCE.as_bytes(), "=[silly.net.http]", None)
        .and_then(|f| vm.call(f, &[Value::Table(c)]));
    match built {
        Ok(v) => match v.first() {
            Some(Value::Table(t)) => *t,
            _ => c,
        },
        // Only a bug in http.lua gets here.
        Err(_) => c,
    }
}

/// parse(buf): `method, target, headers, headlen` for a complete request head,
/// `nil, "partial"` when more bytes are needed, `nil, "bad request"` on garbage.
/// Header names are lower-cased; repeated headers are joined with ", ".
fn parse(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let buf = vm.check_str(args, 0)?;
    let bytes = buf.get().as_bytes().to_vec();
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hdrs);
    let n = match req.parse(&bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            vm.push(Value::Nil)?;
            let s = vm.new_str("partial");
            vm.push(Value::Str(s))?;
            return Ok(2);
        }
        Err(_) => {
            vm.push(Value::Nil)?;
            let s = vm.new_str("bad request");
            vm.push(Value::Str(s))?;
            return Ok(2);
        }
    };
    let method = vm.new_str(req.method.unwrap_or(""));
    let target = vm.new_str(req.path.unwrap_or(""));
    let t = vm.new_table();
    for h in req.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let k = vm.new_str(&name);
        let v = match t.get().get_str(k) {
            Value::Str(old) => {
                let mut joined = old.get().as_bytes().to_vec();
                joined.extend_from_slice(b", ");
                joined.extend_from_slice(h.value);
                vm.new_str(&joined)
            }
            _ => vm.new_str(h.value),
        };
        let _ = vm.raw_set(t, Value::Str(k), Value::Str(v));
    }
    vm.push(Value::Str(method))?;
    vm.push(Value::Str(target))?;
    vm.push(Value::Table(t))?;
    vm.push(Value::Int(n as i64))?;
    Ok(4)
}
