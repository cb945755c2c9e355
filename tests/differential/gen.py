#!/usr/bin/env python3
"""A generator of random Lua 5.4 programs whose output is fully determined by the language
(no addresses, no pairs order, no clocks), for differential runs of hotlua against lua5.4.

    gen.py SEED            prints one program

Programs mix integer and float arithmetic (wrap-around, division by zero, float formatting),
strings (concatenation, format, patterns, rep, sub, byte/char), tables (arrays, fields,
length, table.concat/insert/remove/sort/unpack), closures with shared upvalues, varargs,
loops (numeric, generic over ipairs, while, repeat), goto, metatables (__index, __add,
__eq, __lt, __concat, __len, __call, __close), coroutines, integer/float conversions,
string<->number coercion, and errors caught by pcall whose messages are printed.
"""
import random
import sys


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.out = []
        self.depth = 0
        self.ints = ["i1", "i2", "i3"]
        self.flts = ["f1", "f2"]
        self.strs = ["s1", "s2"]
        self.tbls = ["t1", "t2"]
        self.fns = []
        self.n = 0

    def pick(self, xs):
        return self.r.choice(xs)

    def emit(self, line):
        self.out.append("  " * self.depth + line)

    def fresh(self, p):
        self.n += 1
        return "%s%d" % (p, self.n)

    # ---- expressions by type ----
    def int_lit(self):
        c = self.r.random()
        if c < 0.7:
            return str(self.r.randint(-20, 100))
        if c < 0.85:
            return self.pick(["math.maxinteger", "math.mininteger", "0x7fffffff", "(1 << 62)"])
        return str(self.r.randint(-(2 ** 40), 2 ** 40))

    def int_expr(self, d=0):
        if d > 2 or self.r.random() < 0.35:
            return self.pick(self.ints) if self.r.random() < 0.6 else self.int_lit()
        a, b = self.int_expr(d + 1), self.int_expr(d + 1)
        k = self.r.random()
        if k < 0.45:
            return "(%s %s %s)" % (a, self.pick(["+", "-", "*", "&", "|", "~"]), b)
        if k < 0.55:
            return "(%s %s (%s %% 64))" % (a, self.pick(["<<", ">>"]), b)
        if k < 0.65:
            return "#%s" % self.str_expr(d + 1)
        if k < 0.72:
            return "math.abs(%s)" % a
        if k < 0.8:
            return "(%s // ((%s) | 1))" % (a, b)
        if k < 0.86:
            return "(%s %% ((%s) | 1))" % (a, b)
        if k < 0.92:
            return "math.max(%s, %s)" % (a, b)
        return "(math.tointeger(%s) or 7)" % self.flt_expr(d + 1)

    def flt_lit(self):
        return self.pick(["0.5", "1.25", "-3.75", "1e10", "2.0", "0.1", "-0.0", "1e-3",
                          "123.456", "3.0", str(self.r.randint(-999, 999)) + "." + str(self.r.randint(0, 99))])

    def flt_expr(self, d=0):
        if d > 2 or self.r.random() < 0.35:
            return self.pick(self.flts) if self.r.random() < 0.6 else self.flt_lit()
        a, b = self.flt_expr(d + 1), self.flt_expr(d + 1)
        k = self.r.random()
        if k < 0.5:
            return "(%s %s %s)" % (a, self.pick(["+", "-", "*"]), b)
        if k < 0.6:
            return "(%s / %s)" % (a, b)
        if k < 0.7:
            return "(%s + %s)" % (a, self.int_expr(d + 1))
        if k < 0.78:
            return "math.floor(%s) + 0.5" % a
        if k < 0.85:
            return "(%s ^ 2)" % a
        if k < 0.92:
            return "math.fmod(%s, 7.5)" % a
        return "(%s // 1.5)" % a

    def str_lit(self):
        return self.pick(['"abc"', '"hello world"', '""', '"a,b,,c"', '"x"', '"10"', '"0x1F"',
                          '"  42  "', '"%d"', '"Lua 5.4"', "'tab\\tnew\\nline'", '"3.5"'])

    def str_expr(self, d=0):
        if d > 2 or self.r.random() < 0.35:
            return self.pick(self.strs) if self.r.random() < 0.6 else self.str_lit()
        k = self.r.random()
        a = self.str_expr(d + 1)
        if k < 0.25:
            return "(%s .. %s)" % (a, self.pick([self.str_expr(d + 1), self.int_expr(d + 1)]))
        if k < 0.35:
            return "string.rep(%s, %d, %s)" % (a, self.r.randint(0, 3), self.str_lit())
        if k < 0.45:
            return "(%s):sub(%s, %s)" % (a, self.int_expr(d + 1), self.int_expr(d + 1))
        if k < 0.52:
            return "(%s):upper()" % a
        if k < 0.6:
            return 'string.format("%%d|%%5.2f|%%s|%%q", %s, %s, %s, %s)' % (
                self.int_expr(d + 1), self.flt_expr(d + 1), a, self.str_expr(d + 1))
        if k < 0.68:
            return "tostring(%s)" % self.pick([self.int_expr(d + 1), self.flt_expr(d + 1)])
        if k < 0.76:
            return '((%s):gsub("%s", "%s"))' % (a, self.pick(["%a", "%d+", "o", "(%w)(%w)", "[,%s]"]),
                                           self.pick(["<%0>", "%1", "-", "%%"]))
        if k < 0.82:
            return "table.concat(%s, %s)" % (self.pick(self.tbls), self.str_lit())
        if k < 0.88:
            return "((%s):match(\"%s\") or \"none\")" % (a, self.pick(["%d+", "^%s*(.-)%s*$", "(%a+)", "x"]))
        if k < 0.94:
            return "(%s):reverse()" % a
        return "string.char(65 + (%s) %% 26)" % self.int_expr(d + 1)

    def any_expr(self):
        return self.pick([self.int_expr, self.flt_expr, self.str_expr])()

    # ---- statements ----
    def stmt(self):
        k = self.r.random()
        if k < 0.12:
            self.emit("%s = %s" % (self.pick(self.ints), self.int_expr()))
        elif k < 0.18:
            self.emit("%s = %s" % (self.pick(self.flts), self.flt_expr()))
        elif k < 0.24:
            self.emit("%s = %s" % (self.pick(self.strs), self.str_expr()))
        elif k < 0.36:
            self.emit("print(%s)" % ", ".join(self.any_expr() for _ in range(self.r.randint(1, 3))))
        elif k < 0.44:
            t = self.pick(self.tbls)
            self.emit(self.pick([
                "%s[#%s + 1] = %s" % (t, t, self.int_expr()),
                "table.insert(%s, 1, %s)" % (t, self.str_expr()),
                "if #%s > 0 then table.remove(%s) end" % (t, t),
                "%s.k%d = %s" % (t, self.r.randint(1, 3), self.any_expr()),
                "print(#%s, %s[1], %s.k1, %s.k2)" % (t, t, t, t),
                "print(select('#', table.unpack(%s)), table.unpack(%s))" % (t, t),
            ]))
        elif k < 0.5:
            self.emit("print(pcall(function() return %s end))" % self.pick([
                "%s + nil" % self.int_expr(),
                "%s // 0" % self.int_expr(),
                "%s %% 0" % self.int_expr(),
                "%s .. {}" % self.str_expr(),
                "#%s" % self.int_expr(),
                "%s < %s" % (self.int_expr(), self.str_expr()),
                "math.tointeger(%s) + {}" % self.flt_expr(),
                "(%s)()" % self.int_expr(),
                "(%s).x.y" % self.pick(self.tbls),
                "string.rep(%s, -1) .. %s" % (self.str_expr(), self.int_expr()),
                "error(%s)" % self.pick([self.str_expr(), self.int_expr(), "setmetatable({}, {__tostring = function() return 'E!' end})"]),
                "error(%s, 0)" % self.str_expr(),
                "tostring(%s) + 1" % self.str_expr(),
                "(\"10\" + %s) * 2" % self.int_expr(),
                "1 << %s" % self.flt_expr(),
            ]))
        elif k < 0.58 and self.depth < 3:
            v = self.fresh("i")
            self.emit("for %s = %s, %s, %s do" % (v, self.r.randint(-3, 3), self.r.randint(0, 6),
                                                 self.pick(["1", "2", "-1", "3"])))
            self.depth += 1
            self.ints.append(v)
            for _ in range(self.r.randint(1, 3)):
                self.stmt()
            self.ints.remove(v)
            self.depth -= 1
            self.emit("end")
        elif k < 0.64 and self.depth < 3:
            self.emit("if %s %s %s then" % (self.int_expr(), self.pick(["<", "<=", "==", "~=", ">"]),
                                            self.int_expr()))
            self.depth += 1
            self.stmt()
            self.depth -= 1
            self.emit("else")
            self.depth += 1
            self.stmt()
            self.depth -= 1
            self.emit("end")
        elif k < 0.7 and self.depth < 3:
            t = self.pick(self.tbls)
            iv, vv = self.fresh("i"), self.fresh("v")
            self.emit("for %s, %s in ipairs(%s) do" % (iv, vv, t))
            self.depth += 1
            self.emit("print(%s, type(%s), %s)" % (iv, vv, vv))
            if self.r.random() < 0.3:
                self.emit("if %s > 2 then break end" % iv)
            self.depth -= 1
            self.emit("end")
        elif k < 0.76 and self.depth < 2:
            f = self.fresh("fn")
            a = self.fresh("a")
            self.emit("local function %s(%s, ...)" % (f, a))
            self.depth += 1
            self.ints.append(a)
            self.emit("local n = select('#', ...)")
            for _ in range(self.r.randint(1, 2)):
                self.stmt()
            self.emit("return %s, n, ..." % self.int_expr())
            self.ints.remove(a)
            self.depth -= 1
            self.emit("end")
            args = [self.int_expr()] + [self.any_expr() for _ in range(self.r.randint(0, 2))]
            self.emit("print(%s(%s))" % (f, ", ".join(args)))
        elif k < 0.8:
            c = self.fresh("counter")
            self.emit("local %s do local n = %s; %s = {inc = function(d) n = n + d; return n end, get = function() return n end} end" % (c, self.int_expr(), c))
            self.emit("%s.inc(%s); %s.inc(2); print(%s.get())" % (c, self.int_expr(), c, c))
        elif k < 0.84:
            m = self.fresh("mt")
            self.emit("local %s = setmetatable({v = %s}, {__add = function(a, b) return (type(a) == 'table' and a.v or a) + (type(b) == 'table' and b.v or b) end, __eq = function(a, b) return a.v == b.v end, __lt = function(a, b) return a.v < b.v end, __len = function(s) return s.v end, __concat = function(a, b) return 'cat' end, __index = function(t, k) return k .. '!' end, __call = function(self, x) return x * 2 end, __tostring = function(s) return 'MT' .. s.v end})" % (m, self.int_expr()))
            self.emit("print(%s + %s, %s + %s, #%s, %s .. 'x', %s.zz, %s(21), tostring(%s), %s == %s, %s < setmetatable({v = 3}, getmetatable(%s)))" % (m, self.int_expr(), self.int_expr(), m, m, m, m, m, m, m, m, m, m))
        elif k < 0.88:
            self.emit("do local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); local c = coroutine.yield(b .. '!'); return c, 'done' end)")
            self.emit("  print(co(%s), co(%s), co(%s)) end" % (self.int_expr(), self.str_expr(), self.flt_expr()))
        elif k < 0.91:
            self.emit("do local log = {} do local x <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = 'closed:' .. tostring(e) end}) log[#log + 1] = %s end print(table.concat(log, ' ')) end" % self.str_expr())
        elif k < 0.94:
            t = self.pick(self.tbls)
            self.emit("do local c = {} for i, v in ipairs(%s) do c[i] = tostring(v) end table.sort(c) print(table.concat(c, ',')) end" % t)
        elif k < 0.97:
            lbl = self.fresh("L")
            self.emit("do local k = 0 ::%s:: k = k + 1 if k < %d then goto %s end print('goto', k) end" % (lbl, self.r.randint(1, 5), lbl))
        else:
            self.emit("print(math.type(%s), math.type(%s), %s == %s, %s // 1 | 0)" % (
                self.int_expr(), self.flt_expr(), self.int_expr(), self.flt_expr(), self.int_expr()))

    def program(self):
        self.emit("local i1, i2, i3 = %s, %s, %s" % (self.int_lit(), self.int_lit(), self.int_lit()))
        self.emit("local f1, f2 = %s, %s" % (self.flt_lit(), self.flt_lit()))
        self.emit("local s1, s2 = %s, %s" % (self.str_lit(), self.str_lit()))
        self.emit("local t1, t2 = {%s, %s}, {}" % (self.int_lit(), self.str_lit()))
        for _ in range(self.r.randint(10, 30)):
            self.stmt()
        self.emit("print('end', i1, i2, i3, f1, f2, s1, s2, #t1, #t2)")
        return "\n".join(self.out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(Gen(int(sys.argv[1])).program())
