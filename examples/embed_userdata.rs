//! A Rust type in Lua: fields, methods, metamethods, and borrows checked at run time.
//!
//! Run: `cargo run --example embed_userdata`

use hotlua::{AnyUserData, Lua, MetaMethod, Result, UserData, UserDataFields, UserDataMethods};

/// An inventory Lua scripts can inspect and change.
struct Inventory {
    items: Vec<(String, u32)>,
}

impl UserData for Inventory {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("count", |_, inv| Ok(inv.items.len()));
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method_mut("add", |_, inv, (name, qty): (String, u32)| {
            match inv.items.iter_mut().find(|(n, _)| *n == name) {
                Some((_, q)) => *q += qty,
                None => inv.items.push((name, qty)),
            }
            Ok(())
        });
        methods.add_method("quantity", |_, inv, name: String| {
            Ok(inv
                .items
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, q)| *q))
        });
        methods.add_meta_method(MetaMethod::Len, |_, inv, ()| {
            Ok(inv.items.iter().map(|(_, q)| *q).sum::<u32>())
        });
        methods.add_meta_method(MetaMethod::ToString, |_, inv, ()| {
            Ok(format!("Inventory({} kinds)", inv.items.len()))
        });
    }
}

fn run() -> Result<(String, u32, u32)> {
    let lua = Lua::new();
    lua.globals().set("inv", Inventory { items: Vec::new() })?;
    let shown: String = lua
        .load(
            r#"
            inv:add("apple", 3)
            inv:add("pear", 2)
            inv:add("apple", 1)
            assert(inv.count == 2 and #inv == 6)
            return tostring(inv)
        "#,
        )
        .eval()?;

    // Back in Rust, the same object: borrowed, checked.
    let inv: AnyUserData = lua.globals().get("inv")?;
    let apples = inv.borrow::<Inventory>()?.items[0].1;
    {
        let mut guard = inv.borrow_mut::<Inventory>()?;
        guard.items.push(("plum".into(), 5));
        // While Rust holds it mutably, Lua code using it gets an error, not an alias.
        assert!(lua.load("return inv:quantity('plum')").exec().is_err());
    }
    let plums: u32 = lua.load("return inv:quantity('plum')").eval()?;
    Ok((shown, apples, plums))
}

fn main() -> Result<()> {
    let (shown, apples, plums) = run()?;
    println!("{shown}: {apples} apples, {plums} plums");
    Ok(())
}

#[test]
fn example_runs() {
    assert_eq!(run().unwrap(), ("Inventory(2 kinds)".to_string(), 4, 5));
}
