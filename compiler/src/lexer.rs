//! The Lua 5.4 lexer (logos).
