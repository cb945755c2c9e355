-- Guide: "Best Practices > 7. Test Hot Reload": the `test.testaux` module test_hotfix.lua
-- requires (silly's test helpers; written for the test, the guide does not show it).
local M = {}

--- Fails unless `a == b`, naming both values.
function M.asserteq(a, b, msg)
    if a ~= b then
        error((msg or "asserteq") .. ": " .. tostring(a) .. " ~= " .. tostring(b), 2)
    end
end

--- Fails unless `a ~= b`.
function M.assertneq(a, b, msg)
    if a == b then
        error((msg or "assertneq") .. ": both are " .. tostring(a), 2)
    end
end

return M
