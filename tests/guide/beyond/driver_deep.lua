-- Beyond the guide (spec/patch.md: "Collection is iterative"): a chain of 20000 closures, each
-- holding the previous one as an upvalue, is collected and joined level by level (the tree
-- has one level per closure) and the new chain runs its code on the old state. (The VM
-- thread's 256 MB stack would hide a recursive walk at this depth: this checks correctness
-- on deep graphs, not the absence of recursion.)
local S = require "support"
local patch = require "silly.patch"
local N = 20000
local function chain(version)
    local total = 0
    local make
    if version == 1 then
        make = function(prev)
            return function()
                total = total + 1
                return prev
            end
        end
    else
        make = function(prev)
            return function()
                total = total + 10
                return prev
            end
        end
    end
    local f = nil
    for _ = 1, N do
        f = make(f)
    end
    return f
end
local old = chain(1)
old()
old()
local new = chain(2)
local P = patch.new()
local up_old = P:collectupval(old)
local up_new = P:collectupval(new)
local depth, node = 0, up_old
while node do
    depth = depth + 1
    S.eq(node.total.val, 2, "total at depth " .. depth)
    node = node.prev and node.prev.upvals
end
S.eq(depth, N, "tree depth")
local absent, conflicts = P:join(new, up_new, old, up_old)
S.list_eq(absent, {}, "absent")
S.list_eq(conflicts, {}, "conflicts")
S.eq(up_new.total.val, 0, "the tree shows the values seen at collection")
new()
S.eq(P:collectupval(old).total.val, 12, "new closure adds 10 to the old total")
print("depth", depth)
print("done")
