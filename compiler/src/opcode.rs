//! hotlua's instruction set: register-based, 32-bit instructions modelled on Lua 5.4.
//!
//! Formats (bit 0 is the least significant; the opcode is always bits 0..7):
//!
//! ```text
//!   iABC   C(8) | B(8) | k(1) | A(8) | op(7)
//!   iABx   Bx(17)      | A(8) | op(7)
//!   iAsBx  sBx(17)     | A(8) | op(7)     sBx = Bx - OFFSET_SBX
//!   iAx    Ax(25)             | op(7)
//!   isJ    sJ(25)             | op(7)     sJ  = Ax - OFFSET_SJ
//! ```
//!
//! `R[x]` is register x of the current frame, `K[x]` constant x, `U[x]` upvalue x.
//! `RK(C)` is `K[C]` when `k` is set, else `R[C]`. `sB`/`sC` are signed 8-bit immediates
//! stored with an excess of [`OFFSET_SC`]. Jumps are relative to the next instruction.
//!
//! The meaning of every opcode is documented on its variant and in `spec/bytecode.md`.
//! Unlike Lua 5.4 there is no `MMBIN`: an arithmetic instruction whose operands are not
//! numbers calls the metamethod itself (on its slow path). The `k` bit of `ADDI`, `ADDK` and
//! `MULK`, when set, says the compiler swapped the operands of a commutative operator
//! (`1 + x` compiled as `x + 1`), so the metamethod must be called with them swapped back.

/// Number of bits of each field.
pub const SIZE_OP: u32 = 7;
pub const SIZE_A: u32 = 8;
pub const SIZE_B: u32 = 8;
pub const SIZE_C: u32 = 8;
pub const SIZE_BX: u32 = SIZE_C + SIZE_B + 1;
pub const SIZE_AX: u32 = SIZE_BX + SIZE_A;

pub const POS_A: u32 = SIZE_OP;
pub const POS_K: u32 = POS_A + SIZE_A;
pub const POS_B: u32 = POS_K + 1;
pub const POS_C: u32 = POS_B + SIZE_B;
pub const POS_BX: u32 = POS_K;
pub const POS_AX: u32 = POS_A;

pub const MAX_A: u32 = (1 << SIZE_A) - 1;
pub const MAX_B: u32 = (1 << SIZE_B) - 1;
pub const MAX_C: u32 = (1 << SIZE_C) - 1;
pub const MAX_BX: u32 = (1 << SIZE_BX) - 1;
pub const MAX_AX: u32 = (1 << SIZE_AX) - 1;
pub const OFFSET_SBX: i32 = (MAX_BX >> 1) as i32;
pub const OFFSET_SJ: i32 = (MAX_AX >> 1) as i32;
pub const OFFSET_SC: i32 = (MAX_C >> 1) as i32;

/// Maximum number of registers in a function (a register number must fit in A).
pub const MAX_REGS: u32 = 255;
/// Number of list items accumulated before a `SETLIST` is emitted (`LFIELDS_PER_FLUSH`).
pub const FIELDS_PER_FLUSH: u32 = 50;

macro_rules! opcodes {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// An operation code. The discriminant is the 7-bit opcode field.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum OpCode { $( $(#[$doc])* $name ),* }

        impl OpCode {
            /// Every opcode, indexed by its number.
            pub const ALL: &'static [OpCode] = &[ $( OpCode::$name ),* ];

            /// The opcode's name as written in code (`"GetTabUp"`).
            pub fn name(self) -> &'static str {
                match self { $( OpCode::$name => stringify!($name) ),* }
            }
        }
    };
}

opcodes! {
    /// `A B`: `R[A] := R[B]`
    Move,
    /// `A sBx`: `R[A] := sBx` (an integer)
    LoadI,
    /// `A sBx`: `R[A] := (float)sBx`
    LoadF,
    /// `A Bx`: `R[A] := K[Bx]`
    LoadK,
    /// `A`: `R[A] := K[extra arg]` (the next instruction is `EXTRAARG`)
    LoadKX,
    /// `A`: `R[A] := false`
    LoadFalse,
    /// `A`: `R[A] := false; pc++` (skips the next instruction)
    LFalseSkip,
    /// `A`: `R[A] := true`
    LoadTrue,
    /// `A B`: `R[A], R[A+1], ..., R[A+B] := nil`
    LoadNil,
    /// `A B`: `R[A] := U[B]`
    GetUpval,
    /// `A B`: `U[B] := R[A]`
    SetUpval,
    /// `A B C`: `R[A] := U[B][K[C]]` (`K[C]` is a short string)
    GetTabUp,
    /// `A B C`: `R[A] := R[B][R[C]]`
    GetTable,
    /// `A B C`: `R[A] := R[B][C]` (C an unsigned integer key)
    GetI,
    /// `A B C`: `R[A] := R[B][K[C]]` (`K[C]` is a short string)
    GetField,
    /// `A B C k`: `U[A][K[B]] := RK(C)` (`K[B]` is a short string)
    SetTabUp,
    /// `A B C k`: `R[A][R[B]] := RK(C)`
    SetTable,
    /// `A B C k`: `R[A][B] := RK(C)` (B an unsigned integer key)
    SetI,
    /// `A B C k`: `R[A][K[B]] := RK(C)` (`K[B]` is a short string)
    SetField,
    /// `A B C k`: `R[A] := {}`; B is log2(hash size)+1 (0: empty), C the array size; when k
    /// is set, the array size is `C + EXTRAARG * (MAX_C + 1)` (the next instruction).
    NewTable,
    /// `A B C k`: `R[A+1] := R[B]; R[A] := R[B][RK(C)]` (RK(C) is a string)
    SelfOp,
    /// `A B sC k`: `R[A] := R[B] + sC`
    AddI,
    /// `A B C k`: `R[A] := R[B] + K[C]` (`K[C]` a number)
    AddK,
    /// `A B C`: `R[A] := R[B] - K[C]`
    SubK,
    /// `A B C k`: `R[A] := R[B] * K[C]`
    MulK,
    /// `A B C`: `R[A] := R[B] % K[C]`
    ModK,
    /// `A B C`: `R[A] := R[B] ^ K[C]`
    PowK,
    /// `A B C`: `R[A] := R[B] / K[C]`
    DivK,
    /// `A B C`: `R[A] := R[B] // K[C]`
    IDivK,
    /// `A B C`: `R[A] := R[B] & K[C]` (`K[C]` an integer)
    BAndK,
    /// `A B C`: `R[A] := R[B] | K[C]`
    BOrK,
    /// `A B C`: `R[A] := R[B] ~ K[C]`
    BXorK,
    /// `A B sC`: `R[A] := R[B] >> sC`
    ShrI,
    /// `A B sC`: `R[A] := sC << R[B]`
    ShlI,
    /// `A B C`: `R[A] := R[B] + R[C]`
    Add,
    /// `A B C`: `R[A] := R[B] - R[C]`
    Sub,
    /// `A B C`: `R[A] := R[B] * R[C]`
    Mul,
    /// `A B C`: `R[A] := R[B] % R[C]`
    Mod,
    /// `A B C`: `R[A] := R[B] ^ R[C]`
    Pow,
    /// `A B C`: `R[A] := R[B] / R[C]`
    Div,
    /// `A B C`: `R[A] := R[B] // R[C]`
    IDiv,
    /// `A B C`: `R[A] := R[B] & R[C]`
    BAnd,
    /// `A B C`: `R[A] := R[B] | R[C]`
    BOr,
    /// `A B C`: `R[A] := R[B] ~ R[C]`
    BXor,
    /// `A B C`: `R[A] := R[B] << R[C]`
    Shl,
    /// `A B C`: `R[A] := R[B] >> R[C]`
    Shr,
    /// `A B`: `R[A] := -R[B]`
    Unm,
    /// `A B`: `R[A] := ~R[B]`
    BNot,
    /// `A B`: `R[A] := not R[B]`
    Not,
    /// `A B`: `R[A] := #R[B]`
    Len,
    /// `A B`: `R[A] := R[A] .. ... .. R[A + B - 1]`
    Concat,
    /// `A`: close all upvalues and to-be-closed variables `>= R[A]`
    Close,
    /// `A`: mark `R[A]` as to-be-closed
    Tbc,
    /// `sJ`: `pc += sJ`
    Jmp,
    /// `A B k`: `if ((R[A] == R[B]) ~= k) then pc++`
    Eq,
    /// `A B k`: `if ((R[A] < R[B]) ~= k) then pc++`
    Lt,
    /// `A B k`: `if ((R[A] <= R[B]) ~= k) then pc++`
    Le,
    /// `A B k`: `if ((R[A] == K[B]) ~= k) then pc++`
    EqK,
    /// `A sB k`: `if ((R[A] == sB) ~= k) then pc++`
    EqI,
    /// `A sB k C`: `if ((R[A] < sB) ~= k) then pc++`; C is 1 when `R[A]`'s original operand
    /// was a float (for the metamethod call)
    LtI,
    /// `A sB k C`: `if ((R[A] <= sB) ~= k) then pc++`
    LeI,
    /// `A sB k C`: `if ((R[A] > sB) ~= k) then pc++`
    GtI,
    /// `A sB k C`: `if ((R[A] >= sB) ~= k) then pc++`
    GeI,
    /// `A k`: `if (not R[A] == k) then pc++`
    Test,
    /// `A B k`: `if (not R[B] == k) then pc++ else R[A] := R[B]`
    TestSet,
    /// `A B C`: `R[A], ..., R[A+C-2] := R[A](R[A+1], ..., R[A+B-1])`; B = 0: arguments up to
    /// the stack top; C = 0: keep all results (sets the top)
    Call,
    /// `A B C k`: `return R[A](R[A+1], ..., R[A+B-1])`; k: the frame has upvalues or
    /// to-be-closed variables to close first; C > 0: the function is vararg with C - 1 params
    TailCall,
    /// `A B C k`: `return R[A], ..., R[A+B-2]`; B = 0: up to the top; k and C as `TAILCALL`
    Return,
    /// `return`
    Return0,
    /// `A`: `return R[A]`
    Return1,
    /// `A Bx`: update counters; if the loop continues then `pc -= Bx`
    ForLoop,
    /// `A Bx`: check values and prepare counters; if not to run then `pc += Bx + 1`
    ForPrep,
    /// `A Bx`: create the to-be-closed upvalue for `R[A+3]`; `pc += Bx`
    TForPrep,
    /// `A C`: `R[A+4], ..., R[A+3+C] := R[A](R[A+1], R[A+2])`
    TForCall,
    /// `A Bx`: `if R[A+4] ~= nil then { R[A+2] := R[A+4]; pc -= Bx }`
    TForLoop,
    /// `A B C k`: `R[A][C+i] := R[A+i], 1 <= i <= B`; B = 0: up to the top; k: C is
    /// extended by the next `EXTRAARG` (`C + EXTRAARG * (MAX_C + 1)`)
    SetList,
    /// `A Bx`: `R[A] := closure(KPROTO[Bx])`
    Closure,
    /// `A C`: `R[A], R[A+1], ..., R[A+C-2] = vararg`; C = 0: all of them (sets the top)
    Vararg,
    /// `A`: adjust the vararg parameters (A is the number of fixed parameters)
    VarargPrep,
    /// `Ax`: an extra (larger) argument for the previous opcode
    ExtraArg,
}

impl OpCode {
    /// Decodes the opcode of an instruction. Unknown numbers decode as `ExtraArg`, which the
    /// VM never executes on its own; a verified [`crate::proto::Proto`] never contains them.
    #[inline(always)]
    pub fn from_u8(n: u8) -> OpCode {
        match OpCode::ALL.get(n as usize) {
            Some(op) => *op,
            None => OpCode::ExtraArg,
        }
    }
}

/// A 32-bit instruction with accessors for every field.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Instr(pub u32);

impl Instr {
    #[inline(always)]
    pub fn op(self) -> OpCode {
        OpCode::from_u8((self.0 & ((1 << SIZE_OP) - 1)) as u8)
    }
    #[inline(always)]
    pub fn a(self) -> u32 {
        (self.0 >> POS_A) & MAX_A
    }
    #[inline(always)]
    pub fn b(self) -> u32 {
        (self.0 >> POS_B) & MAX_B
    }
    #[inline(always)]
    pub fn c(self) -> u32 {
        (self.0 >> POS_C) & MAX_C
    }
    #[inline(always)]
    pub fn k(self) -> bool {
        (self.0 >> POS_K) & 1 != 0
    }
    #[inline(always)]
    pub fn sb(self) -> i32 {
        self.b() as i32 - OFFSET_SC
    }
    #[inline(always)]
    pub fn sc(self) -> i32 {
        self.c() as i32 - OFFSET_SC
    }
    #[inline(always)]
    pub fn bx(self) -> u32 {
        (self.0 >> POS_BX) & MAX_BX
    }
    #[inline(always)]
    pub fn sbx(self) -> i32 {
        self.bx() as i32 - OFFSET_SBX
    }
    #[inline(always)]
    pub fn ax(self) -> u32 {
        (self.0 >> POS_AX) & MAX_AX
    }
    #[inline(always)]
    pub fn sj(self) -> i32 {
        self.ax() as i32 - OFFSET_SJ
    }

    pub fn abc(op: OpCode, a: u32, b: u32, c: u32, k: bool) -> Instr {
        debug_assert!(a <= MAX_A && b <= MAX_B && c <= MAX_C);
        Instr(op as u32 | a << POS_A | (k as u32) << POS_K | b << POS_B | c << POS_C)
    }
    pub fn abx(op: OpCode, a: u32, bx: u32) -> Instr {
        debug_assert!(a <= MAX_A && bx <= MAX_BX);
        Instr(op as u32 | a << POS_A | bx << POS_BX)
    }
    pub fn asbx(op: OpCode, a: u32, sbx: i32) -> Instr {
        Instr::abx(op, a, (sbx + OFFSET_SBX) as u32)
    }
    pub fn ax_(op: OpCode, ax: u32) -> Instr {
        debug_assert!(ax <= MAX_AX);
        Instr(op as u32 | ax << POS_AX)
    }
    pub fn sj_(op: OpCode, sj: i32) -> Instr {
        Instr::ax_(op, (sj + OFFSET_SJ) as u32)
    }

    /// Replaces the A field.
    pub fn set_a(&mut self, a: u32) {
        self.0 = (self.0 & !(MAX_A << POS_A)) | (a & MAX_A) << POS_A;
    }
    /// Replaces the B field.
    pub fn set_b(&mut self, b: u32) {
        self.0 = (self.0 & !(MAX_B << POS_B)) | (b & MAX_B) << POS_B;
    }
    /// Replaces the C field.
    pub fn set_c(&mut self, c: u32) {
        self.0 = (self.0 & !(MAX_C << POS_C)) | (c & MAX_C) << POS_C;
    }
    /// Replaces the k bit.
    pub fn set_k(&mut self, k: bool) {
        self.0 = (self.0 & !(1 << POS_K)) | (k as u32) << POS_K;
    }
    /// Replaces the Bx field.
    pub fn set_bx(&mut self, bx: u32) {
        self.0 = (self.0 & !(MAX_BX << POS_BX)) | (bx & MAX_BX) << POS_BX;
    }
    /// Replaces the sJ field.
    pub fn set_sj(&mut self, sj: i32) {
        let ax = (sj + OFFSET_SJ) as u32;
        self.0 = (self.0 & !(MAX_AX << POS_AX)) | (ax & MAX_AX) << POS_AX;
    }
}

impl std::fmt::Debug for Instr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use OpCode::*;
        let op = self.op();
        match op {
            LoadI | LoadF | ForLoop | ForPrep | TForPrep | TForLoop | LoadK | Closure => {
                write!(
                    f,
                    "{:?} {} {}",
                    op,
                    self.a(),
                    if matches!(op, LoadI | LoadF) {
                        self.sbx()
                    } else {
                        self.bx() as i32
                    }
                )
            }
            Jmp => write!(f, "{:?} {}", op, self.sj()),
            ExtraArg => write!(f, "{:?} {}", op, self.ax()),
            _ => write!(
                f,
                "{:?} {} {} {}{}",
                op,
                self.a(),
                self.b(),
                self.c(),
                if self.k() { " k" } else { "" }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let i = Instr::abc(OpCode::SetField, 200, 17, 255, true);
        assert_eq!(
            (i.op(), i.a(), i.b(), i.c(), i.k()),
            (OpCode::SetField, 200, 17, 255, true)
        );
        let j = Instr::asbx(OpCode::LoadI, 3, -65535);
        assert_eq!((j.op(), j.a(), j.sbx()), (OpCode::LoadI, 3, -65535));
        let mut s = Instr::sj_(OpCode::Jmp, -5);
        assert_eq!(s.sj(), -5);
        s.set_sj(1 << 20);
        assert_eq!(s.sj(), 1 << 20);
        assert_eq!(OpCode::ALL.len(), OpCode::ExtraArg as usize + 1);
        assert!(OpCode::ALL.len() <= 1 << SIZE_OP);
    }
}
