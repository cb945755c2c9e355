-- Helpers of the patch engine's tests (tests/patch.rs copies this directory to a fresh
-- temporary directory and runs one driver there with the hotlua binary).
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

--- Fails unless `cond` holds.
function S.check(cond, what)
    if not cond then
        error("check failed: " .. tostring(what), 2)
    end
end

--- Writes `text` to `path`.
function S.write(path, text)
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
end

--- Copies file `source` over `target` (a module's new version takes its path).
function S.install(source, target)
    local f = assert(io.open(source, "rb"))
    local text = f:read("a")
    f:close()
    S.write(target, text)
end

--- A list as one line: `a,b,c`.
function S.join(list)
    local out = {}
    for i = 1, #list do
        out[i] = tostring(list[i])
    end
    return table.concat(out, ",")
end

--- A deterministic description of module tables and everything a patch may touch: for
--- each module, `package.loaded`'s entry, each field (functions by identity, with their
--- prototype's lines, parameters and upvalue names, cell ids and values, recursively into
--- function-valued upvalues), tables by identity and content (one level). Two fingerprints
--- are equal exactly when nothing a patch writes has changed (within one run).
function S.fingerprint(names)
    -- Identities are addresses: a fingerprint is compared with one taken in the same run.
    local function id(v)
        return tostring(v)
    end
    local out = {}
    local seen = {}
    local function val(v, depth)
        local t = type(v)
        if t == "function" then
            local s = id(v)
            if not seen[v] then
                seen[v] = true
                local info = debug.getinfo(v, "Su")
                local ups = {}
                for i = 1, info.nups do
                    local name, uv = debug.getupvalue(v, i)
                    local cell = debug.upvalueid(v, i)
                    ups[#ups + 1] = tostring(name) .. "@" .. id(cell) .. "=" .. val(uv, depth + 1)
                end
                out[#out + 1] = s .. " fn " .. info.source .. ":" .. info.linedefined .. "-"
                    .. info.lastlinedefined .. " p" .. info.nparams .. " [" .. table.concat(ups, " ") .. "]"
            end
            return s
        elseif t == "table" then
            local s = id(v)
            if not seen[v] and depth < 3 then
                seen[v] = true
                local keys = {}
                for k in next, v do
                    keys[#keys + 1] = k
                end
                table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
                local fields = {}
                for _, k in ipairs(keys) do
                    fields[#fields + 1] = tostring(k) .. "=" .. val(rawget(v, k), depth + 1)
                end
                out[#out + 1] = s .. " table {" .. table.concat(fields, " ") .. "}"
            end
            return s
        elseif t == "string" then
            return string.format("%q", v)
        else
            return tostring(v)
        end
    end
    local heads = {}
    for _, name in ipairs(names) do
        heads[#heads + 1] = name .. "=" .. val(package.loaded[name], 0)
    end
    return table.concat(heads, " ") .. "\n" .. table.concat(out, "\n")
end

return S
