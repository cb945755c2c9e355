use hotlua::*;
use std::cell::Cell;
use std::rc::Rc;
fn main() {
    let lua = Lua::new();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(100),
        move |_, d| {
            c.set(c.get() + 1);
            eprintln!("host hook {} {:?}", c.get(), d.event());
            if c.get() > 50 {
                Err(Error::runtime("budget"))
            } else {
                Ok(VmState::Continue)
            }
        },
    );
    let code = std::env::args().nth(1).unwrap();
    let r = lua.load(code.as_str()).exec();
    eprintln!("result {:?}", r.map_err(|e| e.to_string()));
}
