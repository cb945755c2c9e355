//! Lua 5.4's `io` library: files as full userdata (`FILE*`) over our own buffered streams.
//!
//! Invariants:
//! - A file handle is a userdata holding a [`FileRef`] (shared `Rc<RefCell<Stream>>`); its
//!   metatable (registry `"FILE*"`) has `__name`, `__index` (the method table), `__gc`,
//!   `__close` and `__tostring` as liolib's.
//! - `io.stdout` writes through Rust's global `std::io::stdout()`, the same buffer `print`
//!   uses, so their output keeps program order; stdout is flushed before stdin is read.
//! - Regular files buffer reads and writes themselves, C stdio style: pending writes are
//!   flushed before a read, a seek, a close, and at exit ([`flush_all`]); unread buffered
//!   input is given back to the OS position before a write.
//! - Failures are returned as `nil, message, errno` (liolib's `luaL_fileresult`), never
//!   raised, except where 5.4 raises (closed files, bad arguments).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::rc::{Rc, Weak};

use hotlua_vm::api::{Args, NativeFn};
use hotlua_vm::error::LuaError;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{Value, Vm};

use crate::open::{get_field, new_lib, new_userdata, set_field};

/// Registry keys (as liolib's).
const IO_INPUT: &str = "_IO_input";
const IO_OUTPUT: &str = "_IO_output";
const FILE_MT: &str = "FILE*";
/// Most formats `lines` accepts (liolib's MAXARGLINE).
const MAX_ARG_LINE: usize = 250;
/// Longest numeral `read("n")` accepts (L_MAXLENNUM).
const MAX_LEN_NUM: usize = 200;
/// Default buffer size for files.
const BUF_SIZE: usize = 8192;

/// How writes to a file are buffered (`setvbuf`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum BufMode {
    No,
    Line,
    Full,
}

/// A regular file with C-stdio-like buffering.
struct FileStream {
    f: File,
    readable: bool,
    writable: bool,
    /// Read buffer and the next unread index in it.
    rbuf: Vec<u8>,
    rpos: usize,
    /// Pending output.
    wbuf: Vec<u8>,
    mode: BufMode,
    bufsize: usize,
}

/// A child process opened by `io.popen`.
struct PipeStream {
    child: std::process::Child,
    reader: Option<io::BufReader<std::process::ChildStdout>>,
    writer: Option<std::process::ChildStdin>,
}

/// What a `FILE*` handle refers to.
enum Stream {
    Stdin,
    Stdout,
    Stderr,
    File(FileStream),
    Pipe(PipeStream),
    Closed,
}

/// The payload of a `FILE*` userdata.
#[derive(Clone)]
pub struct FileRef(Rc<RefCell<Stream>>);

/// Every regular file the state opened, to flush pending writes at exit (C's `exit` flushes
/// all stdio buffers). An extension slot of the Vm: each state has its own list.
#[derive(Default)]
struct OpenFiles(Vec<Weak<RefCell<Stream>>>);

impl hotlua_vm::ext::Extension for OpenFiles {
    hotlua_vm::extension_any!();
}

/// Flushes stdout, stderr and every open file's pending writes (for `os.exit` and hosts
/// that exit without closing the Vm).
pub fn flush_all(vm: &mut Vm) {
    let _ = vm.stdout().flush();
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    if let Some(l) = vm.ext_mut::<OpenFiles>() {
        l.0.retain(|w| w.strong_count() > 0);
        for w in l.0.iter() {
            if let Some(s) = w.upgrade() {
                if let Ok(mut s) = s.try_borrow_mut() {
                    let _ = s.flush();
                }
            }
        }
    }
}

fn ebadf() -> io::Error {
    io::Error::from_raw_os_error(libc::EBADF)
}

impl FileStream {
    fn new(f: File, readable: bool, writable: bool) -> FileStream {
        FileStream {
            f,
            readable,
            writable,
            rbuf: Vec::new(),
            rpos: 0,
            wbuf: Vec::new(),
            mode: BufMode::Full,
            bufsize: BUF_SIZE,
        }
    }

    fn flush_w(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            let r = self.f.write_all(&self.wbuf);
            self.wbuf.clear();
            r?;
        }
        Ok(())
    }

    /// Gives unread buffered input back (moves the OS position to the logical one).
    fn drop_rbuf(&mut self) -> io::Result<()> {
        let unread = self.rbuf.len() - self.rpos;
        self.rbuf.clear();
        self.rpos = 0;
        if unread > 0 {
            self.f.seek(SeekFrom::Current(-(unread as i64)))?;
        }
        Ok(())
    }

    fn fill(&mut self) -> io::Result<&[u8]> {
        if !self.readable {
            return Err(ebadf());
        }
        if self.rpos >= self.rbuf.len() {
            self.flush_w()?;
            self.rbuf.resize(self.bufsize.max(1), 0);
            self.rpos = 0;
            let n = loop {
                match self.f.read(&mut self.rbuf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.rbuf.clear();
                        return Err(e);
                    }
                }
            };
            self.rbuf.truncate(n);
        }
        Ok(&self.rbuf[self.rpos..])
    }

    fn write(&mut self, b: &[u8]) -> io::Result<()> {
        if !self.writable {
            return Err(ebadf());
        }
        if self.rpos < self.rbuf.len() || !self.rbuf.is_empty() {
            self.drop_rbuf()?;
        }
        match self.mode {
            BufMode::No => {
                self.flush_w()?;
                self.f.write_all(b)
            }
            BufMode::Line => {
                self.wbuf.extend_from_slice(b);
                if b.contains(&b'\n') || self.wbuf.len() >= self.bufsize {
                    self.flush_w()?;
                }
                Ok(())
            }
            BufMode::Full => {
                self.wbuf.extend_from_slice(b);
                if self.wbuf.len() >= self.bufsize {
                    self.flush_w()?;
                }
                Ok(())
            }
        }
    }

    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.flush_w()?;
        // Move the OS position to the logical one first, so a failed seek leaves the
        // position where it was (as fseek does).
        self.drop_rbuf()?;
        self.f.seek(to)
    }
}

impl Drop for FileStream {
    /// A handle freed without `close` (a Vm dropped without running finalizers) still
    /// writes what it buffered, as C's exit() flushes open streams.
    fn drop(&mut self) {
        let _ = self.flush_w();
    }
}

/// `lseek` on a standard descriptor (stdout to a file is seekable; a pipe is not).
fn fd_seek(fd: i32, to: SeekFrom) -> io::Result<u64> {
    let (off, whence) = match to {
        SeekFrom::Start(o) => (o as i64, libc::SEEK_SET),
        SeekFrom::Current(o) => (o, libc::SEEK_CUR),
        SeekFrom::End(o) => (o, libc::SEEK_END),
    };
    // SAFETY: lseek on a descriptor number has no memory-safety requirements.
    let r = unsafe { libc::lseek(fd, off as libc::off_t, whence) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as u64)
    }
}

impl Stream {
    fn is_closed(&self) -> bool {
        matches!(self, Stream::Closed)
    }

    /// Buffered input available (filling the buffer if empty); empty at end of file.
    fn fill(&mut self) -> io::Result<&[u8]> {
        match self {
            // Stdin is read through its own lock in `Reader::with_buf`.
            Stream::Stdin => Err(ebadf()),
            Stream::File(f) => f.fill(),
            Stream::Pipe(p) => match p.reader.as_mut() {
                Some(r) => r.fill_buf(),
                None => Err(ebadf()),
            },
            Stream::Stdout | Stream::Stderr => Err(ebadf()),
            Stream::Closed => Err(ebadf()),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Stream::Stdin => io::stdin().lock().consume(n),
            Stream::File(f) => f.rpos += n,
            Stream::Pipe(p) => {
                if let Some(r) = p.reader.as_mut() {
                    r.consume(n)
                }
            }
            _ => {}
        }
    }

    fn write(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Stream::Stdout => io::stdout().write_all(b),
            Stream::Stderr => io::stderr().write_all(b),
            Stream::File(f) => f.write(b),
            Stream::Pipe(p) => match p.writer.as_mut() {
                Some(w) => w.write_all(b),
                None => Err(ebadf()),
            },
            Stream::Stdin | Stream::Closed => Err(ebadf()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Stdout => io::stdout().flush(),
            Stream::Stderr => io::stderr().flush(),
            Stream::File(f) => {
                f.flush_w()?;
                Ok(())
            }
            Stream::Pipe(p) => match p.writer.as_mut() {
                Some(w) => w.flush(),
                None => Ok(()),
            },
            Stream::Stdin | Stream::Closed => Ok(()),
        }
    }

    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Stream::Stdin => fd_seek(0, to),
            Stream::Stdout => {
                io::stdout().flush()?;
                fd_seek(1, to)
            }
            Stream::Stderr => fd_seek(2, to),
            Stream::File(f) => f.seek(to),
            Stream::Pipe(_) => Err(io::Error::from_raw_os_error(libc::ESPIPE)),
            Stream::Closed => Err(ebadf()),
        }
    }
}

/// Byte-level reading over a stream, hiding stdin's lock.
struct Reader<'a> {
    s: &'a mut Stream,
}

impl Reader<'_> {
    /// Runs `f` over the available input; `f` returns how many bytes it consumed and
    /// whether to stop. Returns Ok(false) at end of file.
    fn with_buf(&mut self, f: &mut dyn FnMut(&[u8]) -> (usize, bool)) -> io::Result<bool> {
        loop {
            let (used, stop, eof) = if let Stream::Stdin = self.s {
                let _ = io::stdout().flush();
                let mut lock = io::stdin().lock();
                let b = lock.fill_buf()?;
                if b.is_empty() {
                    return Ok(false);
                }
                let (u, st) = f(b);
                lock.consume(u);
                (u, st, false)
            } else {
                let b = self.s.fill()?;
                if b.is_empty() {
                    (0, true, true)
                } else {
                    let (u, st) = f(b);
                    (u, st, false)
                }
            };
            if eof {
                return Ok(false);
            }
            if !matches!(self.s, Stream::Stdin) {
                self.s.consume(used);
            }
            if stop {
                return Ok(true);
            }
        }
    }

    /// The next byte without consuming it (None at end of file).
    fn peek(&mut self) -> io::Result<Option<u8>> {
        let mut c = None;
        self.with_buf(&mut |b| {
            c = Some(b[0]);
            (0, true)
        })?;
        Ok(c)
    }

    fn skip(&mut self) {
        match self.s {
            Stream::Stdin => io::stdin().lock().consume(1),
            _ => self.s.consume(1),
        }
    }

    /// A line; `keep_nl` keeps the newline. None at end of file with nothing read.
    fn line(&mut self, keep_nl: bool) -> io::Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        let mut got_nl = false;
        self.with_buf(&mut |b| match b.iter().position(|&c| c == b'\n') {
            Some(i) => {
                out.extend_from_slice(&b[..if keep_nl { i + 1 } else { i }]);
                got_nl = true;
                (i + 1, true)
            }
            None => {
                out.extend_from_slice(b);
                (b.len(), false)
            }
        })?;
        Ok(if got_nl || !out.is_empty() {
            Some(out)
        } else {
            None
        })
    }

    fn all(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.with_buf(&mut |b| {
            out.extend_from_slice(b);
            (b.len(), false)
        })?;
        Ok(out)
    }

    fn chars(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        if n == 0 {
            return Ok(out);
        }
        self.with_buf(&mut |b| {
            let k = b.len().min(n - out.len());
            out.extend_from_slice(&b[..k]);
            (k, out.len() >= n)
        })?;
        Ok(out)
    }

    /// liolib's `l_getn` scanner: the longest prefix that looks like a numeral (at most
    /// 200 chars), leaving the first char after it unread.
    fn numeral(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf: Vec<u8> = Vec::new();
        // Skip whitespace.
        while let Some(c) = self.peek()? {
            if c == b' ' || (b'\t'..=b'\r').contains(&c) {
                self.skip();
            } else {
                break;
            }
        }
        let mut overflow = false;
        // Accepts the current char if it is in `set`.
        let mut test2 = |r: &mut Self, buf: &mut Vec<u8>, set: &[u8]| -> io::Result<bool> {
            match r.peek()? {
                Some(c) if set.contains(&c) => {
                    if buf.len() >= MAX_LEN_NUM {
                        overflow = true;
                        return Ok(false);
                    }
                    buf.push(c);
                    r.skip();
                    Ok(true)
                }
                _ => Ok(false),
            }
        };
        let digits =
            |r: &mut Self, buf: &mut Vec<u8>, hex: bool, of: &mut bool| -> io::Result<usize> {
                let mut n = 0;
                while let Some(c) = r.peek()? {
                    let ok = if hex {
                        c.is_ascii_hexdigit()
                    } else {
                        c.is_ascii_digit()
                    };
                    if !ok {
                        break;
                    }
                    if buf.len() >= MAX_LEN_NUM {
                        *of = true;
                        break;
                    }
                    buf.push(c);
                    r.skip();
                    n += 1;
                }
                Ok(n)
            };
        test2(self, &mut buf, b"-+")?;
        let mut count = 0;
        let mut hex = false;
        if test2(self, &mut buf, b"0")? {
            if test2(self, &mut buf, b"xX")? {
                hex = true;
            } else {
                count = 1;
            }
        }
        let mut of2 = false;
        count += digits(self, &mut buf, hex, &mut of2)?;
        if test2(self, &mut buf, b".")? {
            count += digits(self, &mut buf, hex, &mut of2)?;
        }
        if count > 0 && test2(self, &mut buf, if hex { b"pP" } else { b"eE" })? {
            test2(self, &mut buf, b"-+")?;
            digits(self, &mut buf, false, &mut of2)?;
        }
        if overflow || of2 {
            return Ok(None);
        }
        Ok(Some(buf))
    }
}

// ---- handles ------------------------------------------------------------------------------

fn file_mt(vm: &mut Vm) -> Option<Gc<Table>> {
    let reg = vm.registry();
    match get_field(vm, reg, FILE_MT) {
        Value::Table(t) => Some(t),
        _ => None,
    }
}

/// A new `FILE*` userdata for `s`.
fn new_file(vm: &mut Vm, s: Stream) -> (Value, FileRef) {
    let is_file = matches!(s, Stream::File(_));
    let r = FileRef(Rc::new(RefCell::new(s)));
    if is_file {
        if !vm.has_ext::<OpenFiles>() {
            vm.set_ext(OpenFiles::default());
        }
        if let Some(l) = vm.ext_mut::<OpenFiles>() {
            // Forget closed files now and then, so the list stays as long as the open ones.
            if l.0.len() >= 64 && l.0.len().is_power_of_two() {
                l.0.retain(|w| w.strong_count() > 0);
            }
            l.0.push(Rc::downgrade(&r.0));
        }
    }
    let mt = file_mt(vm);
    let v = new_userdata(vm, r.clone(), mt);
    (v, r)
}

/// The stream of a `FILE*` value, if it is one.
fn as_file(v: Value) -> Option<FileRef> {
    match v {
        Value::UserData(u) => u.get().downcast_ref::<FileRef>().cloned(),
        _ => None,
    }
}

/// liolib's `tolstream`: argument `i` must be a `FILE*` (open or closed).
fn check_file_any(vm: &mut Vm, args: Args, i: usize) -> Result<FileRef, LuaError> {
    match as_file(vm.arg(args, i)) {
        Some(f) => Ok(f),
        None => Err(vm.type_error_arg(args, i, FILE_MT)),
    }
}

/// liolib's `tofile`: argument `i` must be an open `FILE*`.
fn check_file(vm: &mut Vm, args: Args, i: usize) -> Result<FileRef, LuaError> {
    let f = check_file_any(vm, args, i)?;
    if f.0.borrow().is_closed() {
        return Err(vm.rt_error("attempt to use a closed file"));
    }
    Ok(f)
}

/// Message text of an OS error (strerror) and its errno.
pub(crate) fn os_error(e: &io::Error) -> (String, i64) {
    let code = e.raw_os_error().unwrap_or(0);
    let text = if code != 0 {
        // SAFETY: strerror returns a pointer to a NUL-terminated static (or thread-local)
        // message; it is copied at once.
        unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)) }
            .to_string_lossy()
            .into_owned()
    } else {
        e.to_string()
    };
    (text, code as i64)
}

/// `luaL_fileresult` for a failure: pushes `nil, "[fname: ]msg", errno`.
pub(crate) fn push_fail(
    vm: &mut Vm,
    e: &io::Error,
    fname: Option<&[u8]>,
) -> Result<usize, LuaError> {
    let (text, code) = os_error(e);
    let mut msg = Vec::new();
    if let Some(f) = fname {
        msg.extend_from_slice(f);
        msg.extend_from_slice(b": ");
    }
    msg.extend_from_slice(text.as_bytes());
    vm.push(Value::Nil)?;
    let m = vm.str_value(msg);
    vm.push(m)?;
    vm.push(Value::Int(code))?;
    Ok(3)
}

/// `luaL_fileresult`: true on success.
fn file_result(vm: &mut Vm, r: io::Result<()>, fname: Option<&[u8]>) -> Result<usize, LuaError> {
    match r {
        Ok(()) => {
            vm.push(Value::Bool(true))?;
            Ok(1)
        }
        Err(e) => push_fail(vm, &e, fname),
    }
}

/// Checks an `io.open` mode (`[rwa]%+?b*`) and returns (read, write, append, truncate,
/// create).
fn parse_mode(m: &[u8]) -> Option<std::fs::OpenOptions> {
    let (&first, mut rest) = m.split_first()?;
    let plus = rest.first() == Some(&b'+');
    if plus {
        rest = &rest[1..];
    }
    if !rest.iter().all(|&c| c == b'b') {
        return None;
    }
    let mut o = std::fs::OpenOptions::new();
    match first {
        b'r' => o.read(true).write(plus),
        b'w' => o.write(true).create(true).truncate(true).read(plus),
        b'a' => o.append(true).create(true).read(plus),
        _ => return None,
    };
    Some(o)
}

fn mode_rw(m: &[u8]) -> (bool, bool) {
    let plus = m.get(1) == Some(&b'+');
    match m.first() {
        Some(b'r') => (true, plus),
        _ => (plus, true),
    }
}

fn path_of(b: &[u8]) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

/// Opens `name` with a checked mode.
fn open_stream(name: &[u8], mode: &[u8]) -> io::Result<Stream> {
    let opts = parse_mode(mode).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    let f = opts.open(path_of(name))?;
    let (r, w) = mode_rw(mode);
    Ok(Stream::File(FileStream::new(f, r, w)))
}

fn io_open(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?;
    let mode = match vm.opt_str(args, 1)? {
        Some(m) => m.get().as_bytes().to_vec(),
        None => b"r".to_vec(),
    };
    if parse_mode(&mode).is_none() {
        return Err(vm.arg_error(1, "invalid mode"));
    }
    let name = name.get().as_bytes().to_vec();
    match open_stream(&name, &mode) {
        Ok(s) => {
            let (v, _) = new_file(vm, s);
            vm.push(v)?;
            Ok(1)
        }
        Err(e) => push_fail(vm, &e, Some(&name)),
    }
}

fn io_tmpfile(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    // SAFETY: tmpfile has no preconditions; the FILE* is converted to a descriptor we own.
    let fd = unsafe {
        let fp = libc::tmpfile();
        if fp.is_null() {
            -1
        } else {
            let fd = libc::dup(libc::fileno(fp));
            libc::fclose(fp);
            fd
        }
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return push_fail(vm, &e, None);
    }
    use std::os::unix::io::FromRawFd;
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    let f = unsafe { File::from_raw_fd(fd) };
    let (v, _) = new_file(vm, Stream::File(FileStream::new(f, true, true)));
    vm.push(v)?;
    Ok(1)
}

fn io_popen(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let prog = vm.check_str(args, 0)?;
    let mode = match vm.opt_str(args, 1)? {
        Some(m) => m.get().as_bytes().to_vec(),
        None => b"r".to_vec(),
    };
    if !(mode == b"r" || mode == b"w") {
        return Err(vm.arg_error(1, "invalid mode"));
    }
    use std::os::unix::ffi::OsStrExt;
    let _ = io::stdout().flush();
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(std::ffi::OsStr::from_bytes(prog.get().as_bytes()));
    if mode == b"r" {
        cmd.stdout(std::process::Stdio::piped());
    } else {
        cmd.stdin(std::process::Stdio::piped());
    }
    match cmd.spawn() {
        Ok(mut child) => {
            let reader = child.stdout.take().map(io::BufReader::new);
            let writer = child.stdin.take();
            let (v, _) = new_file(
                vm,
                Stream::Pipe(PipeStream {
                    child,
                    reader,
                    writer,
                }),
            );
            vm.push(v)?;
            Ok(1)
        }
        Err(e) => {
            let name = prog.get().as_bytes().to_vec();
            push_fail(vm, &e, Some(&name))
        }
    }
}

/// Closes a stream: standard files refuse (liolib's `io_noclose`).
fn close_stream(vm: &mut Vm, f: &FileRef) -> Result<usize, LuaError> {
    let mut s = f.0.borrow_mut();
    match &mut *s {
        Stream::Stdin | Stream::Stdout | Stream::Stderr => {
            drop(s);
            vm.push(Value::Nil)?;
            let m = vm.str_value("cannot close standard file");
            vm.push(m)?;
            Ok(2)
        }
        Stream::Closed => Ok(0),
        Stream::File(_) => {
            let old = std::mem::replace(&mut *s, Stream::Closed);
            drop(s);
            let r = match old {
                Stream::File(mut fs) => fs.flush_w(),
                _ => Ok(()),
            };
            file_result(vm, r, None)
        }
        Stream::Pipe(_) => {
            let old = std::mem::replace(&mut *s, Stream::Closed);
            drop(s);
            let Stream::Pipe(mut p) = old else {
                return Ok(0);
            };
            drop(p.writer.take());
            drop(p.reader.take());
            match p.child.wait() {
                Ok(st) => crate::os::push_exec_status(vm, st),
                Err(e) => push_fail(vm, &e, None),
            }
        }
    }
}

fn f_close(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = check_file(vm, args, 0)?;
    close_stream(vm, &f)
}

fn io_close(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    if vm.arg(args, 0).is_nil() && args.is_empty() {
        let out = default_file(vm, IO_OUTPUT);
        return match as_file(out) {
            Some(f) if !f.0.borrow().is_closed() => close_stream(vm, &f),
            Some(_) => Err(vm.rt_error("attempt to use a closed file")),
            None => Err(vm.rt_error("default output file is closed")),
        };
    }
    f_close(vm, args)
}

/// `__gc` / `__close`: close an open regular file, silently.
/// Called directly (`getmetatable(io.stdin).__gc()`), it checks its argument as any file
/// method does.
fn f_gc(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = check_file_any(vm, args, 0)?;
    let open_file = matches!(&*f.0.borrow(), Stream::File(_) | Stream::Pipe(_));
    if open_file {
        close_stream(vm, &f)?;
    }
    Ok(0)
}

fn f_tostring(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = vm.arg(args, 0);
    let f = check_file_any(vm, args, 0)?;
    let s = if f.0.borrow().is_closed() {
        "file (closed)".to_string()
    } else {
        format!("file ({:#x})", v.identity().unwrap_or(0))
    };
    let s = vm.str_value(s);
    vm.push(s)?;
    Ok(1)
}

fn io_type(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    vm.check_any(args, 0)?;
    let r = match as_file(vm.arg(args, 0)) {
        Some(f) if f.0.borrow().is_closed() => vm.str_value("closed file"),
        Some(_) => vm.str_value("file"),
        None => Value::Nil,
    };
    vm.push(r)?;
    Ok(1)
}

// ---- reading ------------------------------------------------------------------------------

/// One read format.
enum Fmt {
    Number,
    Line,
    LineNl,
    All,
    Count(usize),
}

/// Parses format value `v` (argument number `argn`, 0-based, for errors).
fn parse_fmt(vm: &mut Vm, v: Value, argn: usize) -> Result<Fmt, LuaError> {
    match v {
        Value::Int(_) | Value::Float(_) => match v.to_int_exact() {
            // A negative count is a huge size_t in C: read everything.
            Some(n) => Ok(Fmt::Count(if n < 0 { usize::MAX } else { n as usize })),
            None => Err(vm.arg_error(argn, "number has no integer representation")),
        },
        Value::Str(s) => {
            let b = s.get().as_bytes();
            let b = b.strip_prefix(b"*").unwrap_or(b);
            match b.first() {
                Some(b'n') => Ok(Fmt::Number),
                Some(b'l') => Ok(Fmt::Line),
                Some(b'L') => Ok(Fmt::LineNl),
                Some(b'a') => Ok(Fmt::All),
                _ => Err(vm.arg_error(argn, "invalid format")),
            }
        }
        _ => {
            let t = vm.obj_type_name(v);
            Err(vm.arg_error(argn, &format!("string expected, got {}", t)))
        }
    }
}

/// liolib's `g_read`: reads each format in turn until one fails (its result becomes nil).
/// `first_arg` is the argument number of the first format, for errors. Returns the
/// values, or Err for an OS error (reported as `nil, msg, errno`).
fn g_read(
    vm: &mut Vm,
    f: &FileRef,
    fmts: &[Value],
    first_arg: usize,
) -> Result<Result<Vec<Value>, io::Error>, LuaError> {
    let parsed: Vec<Fmt> = if fmts.is_empty() {
        vec![Fmt::Line]
    } else {
        let mut p = Vec::with_capacity(fmts.len());
        for (i, &v) in fmts.iter().enumerate() {
            p.push(parse_fmt(vm, v, first_arg + i)?);
        }
        p
    };
    let mut out = Vec::with_capacity(parsed.len());
    let mut s = f.0.borrow_mut();
    let mut r = Reader { s: &mut s };
    for fmt in parsed {
        let res: io::Result<Option<Value>> = match fmt {
            Fmt::Line | Fmt::LineNl => r
                .line(matches!(fmt, Fmt::LineNl))
                .map(|o| o.map(|b| vm.str_value(b))),
            Fmt::All => r.all().map(|b| Some(vm.str_value(b))),
            Fmt::Count(0) => r.peek().map(|c| c.map(|_| vm.str_value(""))),
            Fmt::Count(n) => r.chars(n).map(|b| {
                if b.is_empty() {
                    None
                } else {
                    Some(vm.str_value(b))
                }
            }),
            Fmt::Number => r.numeral().map(|o| {
                o.and_then(|b| match hotlua_compiler::number::str_to_number(&b) {
                    Some(hotlua_compiler::number::Number::Int(i)) => Some(Value::Int(i)),
                    Some(hotlua_compiler::number::Number::Float(x)) => Some(Value::Float(x)),
                    None => None,
                })
            }),
        };
        match res {
            Ok(Some(v)) => out.push(v),
            Ok(None) => {
                out.push(Value::Nil);
                break;
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(out))
}

fn push_read(vm: &mut Vm, r: Result<Vec<Value>, io::Error>) -> Result<usize, LuaError> {
    match r {
        Ok(vals) => {
            for &v in &vals {
                vm.push(v)?;
            }
            Ok(vals.len())
        }
        Err(e) => push_fail(vm, &e, None),
    }
}

fn f_read(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = check_file(vm, args, 0)?;
    let fmts: Vec<Value> = (1..args.len()).map(|i| vm.arg(args, i)).collect();
    let r = g_read(vm, &f, &fmts, 1)?;
    push_read(vm, r)
}

fn io_read(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = get_io_file(vm, IO_INPUT)?;
    let fmts: Vec<Value> = (0..args.len()).map(|i| vm.arg(args, i)).collect();
    let r = g_read(vm, &f, &fmts, 0)?;
    push_read(vm, r)
}

// ---- writing ------------------------------------------------------------------------------

/// liolib's `g_write`: numbers as `%d` / `%.14g`, strings as they are; returns the file.
fn g_write(
    vm: &mut Vm,
    f: &FileRef,
    fv: Value,
    args: Args,
    first: usize,
) -> Result<usize, LuaError> {
    let mut status: io::Result<()> = Ok(());
    for i in first..args.len() {
        let v = vm.arg(args, i);
        if status.is_err() && matches!(v, Value::Str(_) | Value::Int(_) | Value::Float(_)) {
            continue; // as `status && fwrite(...)`: nothing more is written after a failure
        }
        let r = match v {
            Value::Str(s) => f.0.borrow_mut().write(s.get().as_bytes()),
            Value::Int(n) => {
                let mut buf = itoa_buf(n);
                f.0.borrow_mut().write(buf.as_bytes_mut())
            }
            Value::Float(x) => {
                let b = hotlua_vm::numfmt::fmt_g(x, 14, false);
                f.0.borrow_mut().write(b.as_bytes())
            }
            _ => {
                // Not a string or number: the standard argument error.
                vm.check_str(args, i)?;
                Ok(())
            }
        };
        if status.is_ok() {
            status = r;
        }
    }
    match status {
        Ok(()) => {
            vm.push(fv)?;
            Ok(1)
        }
        Err(e) => push_fail(vm, &e, None),
    }
}

/// Decimal digits of an integer in a stack buffer (no allocation per write).
struct IntBuf {
    buf: [u8; 20],
    start: usize,
}

impl IntBuf {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn itoa_buf(n: i64) -> IntBuf {
    let mut buf = [0u8; 20];
    let mut i = 20;
    let mut u = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    IntBuf { buf, start: i }
}

fn f_write(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = check_file(vm, args, 0)?;
    let fv = vm.arg(args, 0);
    g_write(vm, &f, fv, args, 1)
}

fn io_write(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = get_io_file(vm, IO_OUTPUT)?;
    let fv = default_file(vm, IO_OUTPUT);
    g_write(vm, &f, fv, args, 0)
}

fn f_flush(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = check_file(vm, args, 0)?;
    let r = f.0.borrow_mut().flush();
    file_result(vm, r, None)
}

fn io_flush(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let f = get_io_file(vm, IO_OUTPUT)?;
    let r = f.0.borrow_mut().flush();
    file_result(vm, r, None)
}

fn f_seek(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = check_file(vm, args, 0)?;
    let whence = check_option(vm, args, 1, "cur", &["set", "cur", "end"])?;
    let off = vm.opt_int(args, 2, 0)?;
    let to = match whence {
        0 => {
            if off < 0 {
                let e = io::Error::from_raw_os_error(libc::EINVAL);
                return push_fail(vm, &e, None);
            }
            SeekFrom::Start(off as u64)
        }
        1 => SeekFrom::Current(off),
        _ => SeekFrom::End(off),
    };
    let r = f.0.borrow_mut().seek(to);
    match r {
        Ok(p) => {
            vm.push(Value::Int(p as i64))?;
            Ok(1)
        }
        Err(e) => push_fail(vm, &e, None),
    }
}

fn f_setvbuf(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = check_file(vm, args, 0)?;
    let m = check_option(vm, args, 1, "", &["no", "full", "line"])?;
    let size = vm.opt_int(args, 2, BUF_SIZE as i64)?;
    let mut s = f.0.borrow_mut();
    let r = match &mut *s {
        Stream::File(fs) => {
            let r = fs.flush_w();
            fs.mode = [BufMode::No, BufMode::Full, BufMode::Line][m];
            fs.bufsize = size.clamp(1, 1 << 24) as usize;
            r
        }
        _ => Ok(()),
    };
    drop(s);
    file_result(vm, r, None)
}

/// `luaL_checkoption`: the index of argument `i` in `opts` (default `def` when absent).
fn check_option(
    vm: &mut Vm,
    args: Args,
    i: usize,
    def: &str,
    opts: &[&str],
) -> Result<usize, LuaError> {
    let name = if vm.arg(args, i).is_nil() && !def.is_empty() {
        def.as_bytes().to_vec()
    } else {
        vm.check_str(args, i)?.get().as_bytes().to_vec()
    };
    match opts.iter().position(|o| o.as_bytes() == &name[..]) {
        Some(p) => Ok(p),
        None => {
            let msg = format!("invalid option '{}'", String::from_utf8_lossy(&name));
            Err(vm.arg_error(i, &msg))
        }
    }
}

// ---- lines --------------------------------------------------------------------------------

/// The iterator of `lines`: upvalues are the file, the "close at end" flag, then the
/// formats.
fn io_readline(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let fv = vm.native_upvalue(args, 0);
    let Some(f) = as_file(fv) else { return Ok(0) };
    if f.0.borrow().is_closed() {
        return Err(vm.rt_error("file is already closed"));
    }
    let toclose = vm.native_upvalue(args, 1).is_truthy();
    let mut fmts = Vec::new();
    let mut i = 2;
    loop {
        let v = vm.native_upvalue(args, i);
        if v.is_nil() {
            break;
        }
        fmts.push(v);
        i += 1;
    }
    match g_read(vm, &f, &fmts, 1)? {
        Ok(vals) => {
            if vals.first().is_some_and(|v| v.is_truthy()) {
                for &v in &vals {
                    vm.push(v)?;
                }
                return Ok(vals.len());
            }
            if toclose {
                close_stream(vm, &f)?;
            }
            Ok(0)
        }
        Err(e) => {
            let (text, _) = os_error(&e);
            Err(vm.rt_error(&text))
        }
    }
}

/// `aux_lines`: the iterator closure for file `fv` with the formats from argument `first`.
fn make_lines(
    vm: &mut Vm,
    args: Args,
    fv: Value,
    first: usize,
    toclose: bool,
) -> Result<Value, LuaError> {
    let n = args.len().saturating_sub(first);
    if n > MAX_ARG_LINE {
        return Err(vm.arg_error(MAX_ARG_LINE + 1, "too many arguments"));
    }
    let mut ups = vec![fv, Value::Bool(toclose)];
    for i in first..args.len() {
        ups.push(vm.arg(args, i));
    }
    Ok(vm.new_native_closure(io_readline, "for iterator", ups))
}

fn f_lines(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    check_file(vm, args, 0)?;
    let fv = vm.arg(args, 0);
    let it = make_lines(vm, args, fv, 1, false)?;
    vm.push(it)?;
    Ok(1)
}

fn io_lines(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    if vm.arg(args, 0).is_nil() {
        let fv = default_file(vm, IO_INPUT);
        match as_file(fv) {
            Some(f) if !f.0.borrow().is_closed() => {}
            _ => return Err(vm.rt_error("attempt to use a closed file")),
        }
        let it = make_lines(vm, args, fv, 1, false)?;
        vm.push(it)?;
        return Ok(1);
    }
    let name = vm.check_str(args, 0)?.get().as_bytes().to_vec();
    let s = match open_stream(&name, b"r") {
        Ok(s) => s,
        Err(e) => {
            let (text, _) = os_error(&e);
            let msg = format!(
                "cannot open file '{}' ({})",
                String::from_utf8_lossy(&name),
                text
            );
            return Err(vm.rt_error(&msg));
        }
    };
    let (fv, _) = new_file(vm, s);
    vm.push(fv)?; // keep it reachable while the closure is built
    let it = make_lines(vm, args, fv, 1, true)?;
    vm.push(it)?;
    vm.push(Value::Nil)?;
    vm.push(Value::Nil)?;
    vm.push(fv)?;
    Ok(4)
}

// ---- default files ------------------------------------------------------------------------

fn default_file(vm: &mut Vm, key: &str) -> Value {
    let reg = vm.registry();
    get_field(vm, reg, key)
}

/// liolib's `getiofile`: the default input/output, which must be open.
fn get_io_file(vm: &mut Vm, key: &str) -> Result<FileRef, LuaError> {
    match as_file(default_file(vm, key)) {
        Some(f) if !f.0.borrow().is_closed() => Ok(f),
        _ => {
            let what = if key == IO_INPUT { "input" } else { "output" };
            Err(vm.rt_error(&format!("default {} file is closed", what)))
        }
    }
}

/// `io.input` / `io.output`: set from a file name or handle; return the current one.
fn g_iofile(vm: &mut Vm, args: Args, key: &str, mode: &[u8]) -> Result<usize, LuaError> {
    let a = vm.arg(args, 0);
    if !a.is_nil() {
        let fv = match a {
            Value::Str(_) | Value::Int(_) | Value::Float(_) => {
                let name = vm.check_str(args, 0)?.get().as_bytes().to_vec();
                match open_stream(&name, mode) {
                    Ok(s) => new_file(vm, s).0,
                    Err(e) => {
                        let (text, _) = os_error(&e);
                        let msg = format!(
                            "cannot open file '{}' ({})",
                            String::from_utf8_lossy(&name),
                            text
                        );
                        return Err(vm.rt_error(&msg));
                    }
                }
            }
            _ => {
                check_file(vm, args, 0)?;
                a
            }
        };
        let reg = vm.registry();
        set_field(vm, reg, key, fv);
    }
    let cur = default_file(vm, key);
    vm.push(cur)?;
    Ok(1)
}

fn io_input(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    g_iofile(vm, args, IO_INPUT, b"r")
}

fn io_output(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    g_iofile(vm, args, IO_OUTPUT, b"w")
}

/// Installs the `io` library: functions, the `FILE*` metatable, and the standard files.
pub fn open(vm: &mut Vm) {
    let lib = new_lib(
        vm,
        "io",
        &[
            ("close", io_close),
            ("flush", io_flush),
            ("input", io_input),
            ("lines", io_lines),
            ("open", io_open),
            ("output", io_output),
            ("popen", io_popen),
            ("read", io_read),
            ("tmpfile", io_tmpfile),
            ("type", io_type),
            ("write", io_write),
        ],
    );
    let methods = vm.new_table();
    let ms: &[(&str, NativeFn)] = &[
        ("close", f_close),
        ("flush", f_flush),
        ("lines", f_lines),
        ("read", f_read),
        ("seek", f_seek),
        ("setvbuf", f_setvbuf),
        ("write", f_write),
    ];
    for &(n, f) in ms {
        set_field(vm, methods, n, Value::LightFn(f));
    }
    let mt = vm.new_table();
    let name = vm.str_value(FILE_MT);
    set_field(vm, mt, "__name", name);
    set_field(vm, mt, "__index", Value::Table(methods));
    set_field(vm, mt, "__gc", Value::LightFn(f_gc));
    set_field(vm, mt, "__close", Value::LightFn(f_gc));
    set_field(vm, mt, "__tostring", Value::LightFn(f_tostring));
    let reg = vm.registry();
    set_field(vm, reg, FILE_MT, Value::Table(mt));
    for (name, s, key) in [
        ("stdin", Stream::Stdin, Some(IO_INPUT)),
        ("stdout", Stream::Stdout, Some(IO_OUTPUT)),
        ("stderr", Stream::Stderr, None),
    ] {
        let (v, _) = new_file(vm, s);
        set_field(vm, lib, name, v);
        if let Some(k) = key {
            set_field(vm, reg, k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        for m in ["r", "w", "a", "r+", "w+", "a+", "rb", "r+b", "wbb"] {
            assert!(parse_mode(m.as_bytes()).is_some(), "{m}");
        }
        for m in ["", "x", "rw", "r+x", "+r", "br", "r++"] {
            assert!(parse_mode(m.as_bytes()).is_none(), "{m}");
        }
        assert_eq!(mode_rw(b"r"), (true, false));
        assert_eq!(mode_rw(b"a+"), (true, true));
        assert_eq!(mode_rw(b"w"), (false, true));
    }

    #[test]
    fn integer_digits() {
        for n in [0i64, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            assert_eq!(itoa_buf(n).as_bytes_mut(), n.to_string().as_bytes());
        }
    }

    #[test]
    fn file_buffering_read_write_seek() {
        let path = std::env::temp_dir().join(format!("hotlua_io_unit_{}", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let mut s = Stream::File(FileStream::new(f, true, true));
        s.write(b"hello\nworld 12.5e1 0x1F -7").unwrap();
        assert_eq!(s.seek(SeekFrom::Start(0)).unwrap(), 0);
        let mut r = Reader { s: &mut s };
        assert_eq!(r.line(false).unwrap(), Some(b"hello".to_vec()));
        assert_eq!(r.chars(5).unwrap(), b"world".to_vec());
        assert_eq!(r.numeral().unwrap(), Some(b"12.5e1".to_vec()));
        assert_eq!(r.numeral().unwrap(), Some(b"0x1F".to_vec()));
        assert_eq!(r.numeral().unwrap(), Some(b"-7".to_vec()));
        assert_eq!(r.line(true).unwrap(), None);
        assert_eq!(r.peek().unwrap(), None);
        // Position after reading everything, then overwrite in place.
        assert_eq!(s.seek(SeekFrom::Current(0)).unwrap(), 26);
        s.seek(SeekFrom::Start(0)).unwrap();
        let mut r = Reader { s: &mut s };
        assert_eq!(r.chars(2).unwrap(), b"he".to_vec());
        s.write(b"LL").unwrap();
        s.seek(SeekFrom::Start(0)).unwrap();
        let mut r = Reader { s: &mut s };
        assert_eq!(r.line(true).unwrap(), Some(b"heLLo\n".to_vec()));
        let _ = std::fs::remove_file(&path);
    }
}
