-- Helpers shared by the guide's conformance drivers (tests/guide.rs copies this file next to
-- each scenario). Not part of the guide: the guide's own code lives in the scenario files.
-- A failed check raises an error at the caller's line, so the driver exits non-zero and the
-- Rust test shows which expectation broke.
local S = {}

local function show(v)
    if type(v) == "string" then
        return '"' .. v .. '"'
    end
    return tostring(v)
end

--- Fails unless `actual == expected`.
function S.eq(actual, expected, what)
    if actual ~= expected then
        error((what or "value") .. ": expected " .. show(expected) .. ", got " .. show(actual), 2)
    end
end

--- Fails unless `cond` is true.
function S.check(cond, what)
    if not cond then
        error("check failed: " .. tostring(what), 2)
    end
end

--- Writes the content of `source` over `target`: a module's new version takes its path.
function S.install(source, target)
    local src = assert(io.open(source, "rb"))
    local text = src:read("a")
    src:close()
    local dst = assert(io.open(target, "wb"))
    dst:write(text)
    dst:close()
end

--- Runs `f(...)`, which must fail, and returns its error message.
function S.fails(f, ...)
    local ok, err = pcall(f, ...)
    if ok then
        error("expected an error, but the call succeeded", 2)
    end
    return err
end

--- Fails unless array `list` holds exactly the strings of `expected`, in order.
function S.list_eq(list, expected, what)
    local same = #list == #expected
    for i = 1, #expected do
        same = same and list[i] == expected[i]
    end
    if not same then
        local got = {}
        for i = 1, #list do
            got[i] = tostring(list[i])
        end
        error((what or "list") .. ": expected {" .. table.concat(expected, ", ") .. "}, got {"
            .. table.concat(got, ", ") .. "}", 2)
    end
end

--- A fake HTTP request: `req.params` as the route handlers read it.
function S.req(params)
    return {params = params or {}}
end

--- A fake HTTP response recording what the handler set.
function S.res()
    local r = {}
    function r:status(code)
        self.code = code
    end
    function r:send(body)
        self.body = body
    end
    return r
end

--- Number of keys in table `t`.
function S.count(t)
    local n = 0
    for _ in pairs(t) do
        n = n + 1
    end
    return n
end

return S
