-- A searcher that replaces package.searchers and collects: require keeps the table it is
-- walking alive.
package.searchers = {
  function() package.searchers = nil; collectgarbage(); collectgarbage(); return "\n\tfirst" end,
  function() return "\n\tsecond" end,
}
local ok, err = pcall(require, "nothere")
print(ok, err:match("first") ~= nil, err:match("second") ~= nil)
