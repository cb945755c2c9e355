//! The collector seen from Lua: reclamation under churn, weak tables, `__gc` order and
//! resurrection, `collectgarbage` options. Expected outputs were checked with lua5.4.

use hotlua_vm::Value;

/// `table.concat` lives in the stdlib crate: the snippets use this instead.
const CAT: &str = "local function cat(t, sep)
    local s = ''
    for i = 1, #t do s = s .. (i > 1 and sep or '') .. tostring(t[i]) end
    return s
  end
";

/// Runs `src` and returns its single string result.
fn run(src: &str) -> String {
    let mut vm = hotlua_stdlib::open::new_vm();
    let src = format!("{CAT}{src}");
    let f = match vm.load(src.as_bytes(), "=gc_test", None) {
        Ok(f) => f,
        Err(e) => panic!("load failed: {:?}", e.value),
    };
    let r = match vm.call(f, &[]) {
        Ok(r) => r,
        Err(e) => panic!("run failed: {:?}", e.value),
    };
    match r.first() {
        Some(Value::Str(s)) => s.get().to_str_lossy().into_owned(),
        other => panic!("expected a string result, got {other:?}"),
    }
}

#[test]
fn self_referencing_tables_are_reclaimed() {
    let n = 10_000_000;
    let out = run(&format!(
        "local peak = 0
         for i = 1, {n} do
           local t = {{}}
           t.self = t
           if i % 1000 == 0 then
             local c = collectgarbage('count')
             if c > peak then peak = c end
           end
         end
         return tostring(peak < 100 * 1024) .. ' ' .. tostring(peak)"
    ));
    assert!(out.starts_with("true "), "peak KB: {out}");
    eprintln!("peak KB: {out}");
}

#[test]
fn finalizers_run_in_reverse_order_and_can_resurrect() {
    let out = run("local out = {}
         for i = 1, 3 do setmetatable({}, {__gc = function() out[#out + 1] = i end}) end
         collectgarbage()
         local saved
         do local x = setmetatable({v = 42}, {__gc = function(o) saved = o end}) end
         collectgarbage()
         return cat(out, ',') .. ' ' .. tostring(saved and saved.v)");
    assert_eq!(out, "3,2,1 42");
}

#[test]
fn weak_tables_from_lua() {
    let out = run("local wk = setmetatable({}, {__mode = 'k'})
         local wv = setmetatable({}, {__mode = 'v'})
         local keep = {}
         wk[{}] = 1; wk[keep] = 2; wk['str'] = {}
         wv[1] = {}; wv[2] = keep; wv[3] = 's'
         collectgarbage()
         local n = 0
         for k in pairs(wk) do n = n + 1 end
         local e = setmetatable({}, {__mode = 'k'})
         do local a, b, c = {}, {}, {}; e[a] = b; e[b] = c; e[c] = a end
         collectgarbage()
         return cat({n, tostring(wv[1]), tostring(wv[2] == keep), wv[3],
                              tostring(next(e))}, ' ')");
    assert_eq!(out, "2 nil true s nil");
}

#[test]
fn traversal_survives_collections_clearing_entries() {
    let out = run("local w = setmetatable({}, {__mode = 'v'})
         local strong = {}
         for i = 1, 100 do local v = {}; w['k' .. i] = v; if i % 2 == 0 then strong[i] = v end end
         local cnt = 0
         for k, v in pairs(w) do cnt = cnt + 1; collectgarbage() end
         local left = 0
         for k in pairs(w) do left = left + 1 end
         return tostring(cnt >= 50) .. ' ' .. left");
    assert_eq!(out, "true 50");
}

#[test]
fn collectgarbage_count_stop_restart() {
    let out = run(
        "local r = {collectgarbage('isrunning'), collectgarbage('stop'),
                             collectgarbage('isrunning'), collectgarbage('restart'),
                             collectgarbage('isrunning')}
         local t = {}
         for i = 1, 1e6 do t[i] = i end
         local before = collectgarbage('count')
         t = nil
         collectgarbage()
         r[#r + 1] = before - collectgarbage('count') > 10000
         return cat(r, ' ')",
    );
    assert_eq!(out, "true 0 false 0 true true");
}

#[test]
fn finalized_once_and_errors_do_not_propagate() {
    let out = run("local n = 0
         local saved
         do
           local x = setmetatable({}, {__gc = function(o) n = n + 1; saved = o end})
         end
         collectgarbage()
         saved = nil
         collectgarbage()
         collectgarbage()
         setmetatable({}, {__gc = function() error('boom') end})
         collectgarbage()
         local order = {}
         local mt = {__gc = function(o) order[#order + 1] = o.name end}
         local a = setmetatable({name = 'a'}, mt)
         local b = setmetatable({name = 'b', ref = a}, mt)
         a, b = nil, nil
         collectgarbage()
         return n .. ' ' .. cat(order, ',')");
    assert_eq!(out, "1 b,a");
}
