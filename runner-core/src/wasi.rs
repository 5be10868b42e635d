//! The WASI preview1 subset sightglass benchmarks get, on every platform:
//! captured stdout/stderr, a read-only preopened directory served from the
//! suite image, clocks, randomness, empty arguments and environment.
//!
//! Real modules (wasi-libc, Rust std, TinyGo) import far more of WASI than
//! they call, so *every* `wasi_snapshot_preview1` import is defined; what is
//! not implemented here answers ENOSYS and is reported by name.
//!
//! The preopened directory (fd 3, named `.`, as sightglass's wasmtime
//! engine preopens the benchmark's folder) is read-only. Choices where the
//! preview1 text leaves room, and why:
//!
//! - `path_open` asking for a write (`O_CREAT` of a missing file, `O_TRUNC`,
//!   `FDFLAGS_APPEND`, or the rights `fd_write`, `fd_datasync`,
//!   `fd_allocate`, `fd_filestat_set_size` in `fs_rights_base`) answers
//!   EROFS (69): POSIX's errno for a write open on a read-only file system,
//!   so wasi-libc's `strerror` says what happened. (wasmtime-wasi answers
//!   EPERM from its `DirPerms` check; nothing in wasi-libc or Rust std
//!   depends on which.) Other requested rights are narrowed silently,
//!   which both wasi-libc (`max & fs_rights_inheriting`) and Rust std
//!   ("implementations may give us fewer rights silently than we ask for")
//!   expect: Rust std asks for `path_create_file` and friends even for a
//!   read-only open.
//! - Paths that are absolute or climb above the directory with `..` answer
//!   ENOTCAPABLE (76), the preview1 errno for capabilities a descriptor
//!   does not hold.
//! - `fd_write`/`fd_pwrite` on an input file answer EBADF (POSIX: not open
//!   for writing); mutating path calls (`path_unlink_file`, …) EROFS.
//!
//! File bytes are slices of the suite image, never copied per open.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use wasmtime::Val;

pub const ERRNO_SUCCESS: i32 = 0;
pub const ERRNO_BADF: i32 = 8;
pub const ERRNO_EXIST: i32 = 20;
pub const ERRNO_FAULT: i32 = 21;
pub const ERRNO_INVAL: i32 = 28;
pub const ERRNO_ISDIR: i32 = 31;
pub const ERRNO_NAMETOOLONG: i32 = 37;
pub const ERRNO_NOENT: i32 = 44;
pub const ERRNO_NOSYS: i32 = 52;
pub const ERRNO_NOTDIR: i32 = 54;
pub const ERRNO_ROFS: i32 = 69;
pub const ERRNO_SPIPE: i32 = 70;
pub const ERRNO_NOTCAPABLE: i32 = 76;

/// The preopened directory's descriptor (0–2 are stdio).
pub const PREOPEN_FD: u32 = 3;

const FILETYPE_CHARACTER_DEVICE: u8 = 2;
const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_REGULAR_FILE: u8 = 4;

const OFLAGS_CREAT: i32 = 1;
const OFLAGS_DIRECTORY: i32 = 2;
const OFLAGS_EXCL: i32 = 4;
const OFLAGS_TRUNC: i32 = 8;
const FDFLAGS_APPEND: i32 = 1;

const RIGHT_FD_DATASYNC: u64 = 1 << 0;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_SEEK: u64 = 1 << 2;
const RIGHT_FD_TELL: u64 = 1 << 5;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const RIGHT_FD_ADVISE: u64 = 1 << 7;
const RIGHT_FD_ALLOCATE: u64 = 1 << 8;
const RIGHT_PATH_OPEN: u64 = 1 << 13;
const RIGHT_FD_READDIR: u64 = 1 << 14;
const RIGHT_PATH_FILESTAT_GET: u64 = 1 << 18;
const RIGHT_FD_FILESTAT_GET: u64 = 1 << 21;
const RIGHT_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
const RIGHT_POLL_FD_READWRITE: u64 = 1 << 27;
/// Rights only a writer needs; asking for any of them is a write open.
const WRITE_RIGHTS: u64 =
    RIGHT_FD_WRITE | RIGHT_FD_DATASYNC | RIGHT_FD_ALLOCATE | RIGHT_FD_FILESTAT_SET_SIZE;
/// What an input file's descriptor holds.
const FILE_RIGHTS: u64 = RIGHT_FD_READ
    | RIGHT_FD_SEEK
    | RIGHT_FD_TELL
    | RIGHT_FD_ADVISE
    | RIGHT_FD_FILESTAT_GET
    | RIGHT_POLL_FD_READWRITE;
/// What a directory's descriptor holds.
const DIR_RIGHTS: u64 =
    RIGHT_PATH_OPEN | RIGHT_FD_READDIR | RIGHT_PATH_FILESTAT_GET | RIGHT_FD_FILESTAT_GET;

/// Most bytes of stdout (and of stderr) kept per instance: the whole output
/// up to here is compared with the expected file; more, when there is an
/// expected file, is a failure. Public sightglass benchmarks write up to
/// 2 MiB (`hex-simd`'s stdout); the kernel heap holds 16 MiB per stream
/// beside the instance easily (inputs are slices of the image, not copies).
pub const OUTPUT_LIMIT: usize = 16 << 20;

/// One captured output stream.
#[derive(Default)]
pub struct Capture {
    /// Everything written, up to [`OUTPUT_LIMIT`].
    pub bytes: Vec<u8>,
    /// Bytes written in all (more than `bytes.len()` after an overflow).
    pub written: u64,
}

impl Capture {
    fn push(&mut self, data: &[u8]) {
        self.written += data.len() as u64;
        let room = OUTPUT_LIMIT.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
    }

    /// Whether more than [`OUTPUT_LIMIT`] bytes were written.
    pub fn overflowed(&self) -> bool {
        self.written > self.bytes.len() as u64
    }
}

/// The read-only directory tree: files by path (relative, `/`-separated,
/// sorted); directories are the paths' prefixes.
pub struct Tree {
    files: Vec<(String, ImageBytes)>,
}

/// A slice of the suite image, kept as a raw pointer because a wasmtime
/// `Store`'s data must be `'static` while the image is borrowed.
#[derive(Clone, Copy)]
struct ImageBytes {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the bytes are immutable for the whole run (see `Tree::new`), so
// reading them from any thread is as safe as reading a `&[u8]`.
unsafe impl Send for ImageBytes {}
// SAFETY: as above; nothing writes through the pointer.
unsafe impl Sync for ImageBytes {}

impl ImageBytes {
    fn get(&self) -> &[u8] {
        // SAFETY: `Tree::new`'s contract: the slice outlives every use of
        // the tree, and nothing mutates it.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Tree {
    /// A tree of `files` (`(path, bytes)`, paths relative and
    /// `/`-separated, sorted).
    ///
    /// # Safety
    ///
    /// Every byte slice must stay valid and unchanged for as long as the
    /// tree, or any [`Wasi`] holding it, is used. The sightglass runner
    /// meets this by building the tree from the suite image it borrows and
    /// dropping every store before it returns.
    pub unsafe fn new(files: &[(String, &[u8])]) -> Tree {
        Tree {
            files: files
                .iter()
                .map(|(path, bytes)| {
                    (
                        path.clone(),
                        ImageBytes {
                            ptr: bytes.as_ptr(),
                            len: bytes.len(),
                        },
                    )
                })
                .collect(),
        }
    }

    fn file(&self, path: &str) -> Option<usize> {
        self.files
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
    }

    fn is_dir(&self, path: &str) -> bool {
        path.is_empty()
            || self.files.iter().any(|(p, _)| {
                p.len() > path.len() && p.starts_with(path) && p.as_bytes()[path.len()] == b'/'
            })
    }

    /// The names directly inside directory `dir`, with their file types,
    /// sorted.
    fn entries(&self, dir: &str) -> Vec<(String, u8)> {
        let mut out: BTreeMap<String, u8> = BTreeMap::new();
        for (path, _) in &self.files {
            let rest = if dir.is_empty() {
                path.as_str()
            } else if let Some(rest) = path.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
                rest
            } else {
                continue;
            };
            match rest.split_once('/') {
                Some((sub, _)) => out.insert(sub.to_string(), FILETYPE_DIRECTORY),
                None => out.insert(rest.to_string(), FILETYPE_REGULAR_FILE),
            };
        }
        out.into_iter().collect()
    }
}

/// An open descriptor of the tree.
#[derive(Clone)]
enum Open {
    Dir { path: String },
    File { index: usize, pos: u64 },
}

/// WASI state of one instance.
pub struct Wasi {
    pub stdout: Capture,
    pub stderr: Capture,
    /// Code passed to `proc_exit`, once called.
    pub exit_code: Option<i32>,
    /// Unimplemented functions the module called.
    pub nosys: BTreeSet<String>,
    tree: Option<Arc<Tree>>,
    fds: BTreeMap<u32, Open>,
    tsc_hz: u64,
    stamp: fn() -> u64,
    rng: u64,
}

/// `proc_exit` unwinds the instance with this error.
#[derive(Debug, PartialEq, Eq)]
pub struct ProcExit(pub i32);

impl core::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "proc_exit({})", self.0)
    }
}

impl core::error::Error for ProcExit {}

impl Wasi {
    /// Fresh state; `tree` is the preopened directory, if any; `stamp` and
    /// `tsc_hz` the platform's clock.
    pub fn new(tree: Option<Arc<Tree>>, stamp: fn() -> u64, tsc_hz: u64) -> Wasi {
        let mut fds = BTreeMap::new();
        if tree.is_some() {
            fds.insert(
                PREOPEN_FD,
                Open::Dir {
                    path: String::new(),
                },
            );
        }
        Wasi {
            stdout: Capture::default(),
            stderr: Capture::default(),
            exit_code: None,
            nosys: BTreeSet::new(),
            tree,
            fds,
            tsc_hz,
            stamp,
            // Fixed seed: icount runs stay byte-identical.
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn tree(&self) -> &Tree {
        self.tree
            .as_deref()
            .expect("descriptors exist only with a tree")
    }

    /// The lowest free descriptor above the preopen (POSIX's rule).
    fn free_fd(&self) -> u32 {
        let mut fd = PREOPEN_FD + 1;
        while self.fds.contains_key(&fd) {
            fd += 1;
        }
        fd
    }

    /// Resolve `path` relative to directory descriptor `dir`: the
    /// normalized path, or an errno.
    fn resolve(&self, dir: i32, path: &[u8]) -> Result<String, i32> {
        let base = match self.fds.get(&(dir as u32)) {
            Some(Open::Dir { path }) => path.clone(),
            Some(Open::File { .. }) => return Err(ERRNO_NOTDIR),
            None => return Err(ERRNO_BADF),
        };
        let path = core::str::from_utf8(path).map_err(|_| ERRNO_INVAL)?;
        if path.is_empty() {
            return Err(ERRNO_NOENT);
        }
        if path.starts_with('/') {
            return Err(ERRNO_NOTCAPABLE);
        }
        let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(ERRNO_NOTCAPABLE);
                    }
                }
                name => parts.push(name),
            }
        }
        let resolved = parts.join("/");
        if path.ends_with('/') && self.tree().file(&resolved).is_some() {
            return Err(ERRNO_NOTDIR);
        }
        Ok(resolved)
    }

    /// What `path` names: `Ok(Some(index))` a file, `Ok(None)` a directory.
    fn lookup(&self, path: &str) -> Result<Option<usize>, i32> {
        let tree = self.tree();
        if let Some(index) = tree.file(path) {
            Ok(Some(index))
        } else if tree.is_dir(path) {
            Ok(None)
        } else {
            Err(ERRNO_NOENT)
        }
    }
}

/// Guest memory with bounds-checked access; out of bounds is EFAULT.
struct Mem<'a>(&'a mut [u8]);

impl Mem<'_> {
    fn range(&self, at: u32, len: u32) -> Result<core::ops::Range<usize>, i32> {
        let start = at as usize;
        let end = start.checked_add(len as usize).ok_or(ERRNO_FAULT)?;
        if end > self.0.len() {
            return Err(ERRNO_FAULT);
        }
        Ok(start..end)
    }
    fn bytes(&self, at: u32, len: u32) -> Result<&[u8], i32> {
        let r = self.range(at, len)?;
        Ok(&self.0[r])
    }
    fn bytes_mut(&mut self, at: u32, len: u32) -> Result<&mut [u8], i32> {
        let r = self.range(at, len)?;
        Ok(&mut self.0[r])
    }
    fn u32(&self, at: u32) -> Result<u32, i32> {
        let b = self.bytes(at, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn put(&mut self, at: u32, bytes: &[u8]) -> Result<(), i32> {
        self.bytes_mut(at, bytes.len() as u32)?
            .copy_from_slice(bytes);
        Ok(())
    }
    fn put_u32(&mut self, at: u32, v: u32) -> Result<(), i32> {
        self.put(at, &v.to_le_bytes())
    }
    fn put_u64(&mut self, at: u32, v: u64) -> Result<(), i32> {
        self.put(at, &v.to_le_bytes())
    }
    /// The `(ptr, len)` pairs of an iovec array.
    fn iovecs(&self, at: u32, count: u32) -> Result<Vec<(u32, u32)>, i32> {
        (0..count)
            .map(|k| {
                let entry = at.checked_add(8 * k).ok_or(ERRNO_FAULT)?;
                Ok((self.u32(entry)?, self.u32(entry + 4)?))
            })
            .collect()
    }
}

/// The WASI function `name` with parameters `p`: its errno, or
/// `Err(ProcExit)` when the instance exits. `memory` is the instance's
/// exported memory (`None`: it exports none).
pub fn call(
    state: &mut Wasi,
    memory: Option<&mut [u8]>,
    name: &str,
    p: &[Val],
) -> Result<i32, ProcExit> {
    let i32_at = |i: usize| p.get(i).and_then(Val::i32).unwrap_or(0);
    let u32_at = |i: usize| i32_at(i) as u32;
    let i64_at = |i: usize| p.get(i).and_then(Val::i64).unwrap_or(0);
    if name == "proc_exit" {
        state.exit_code = Some(i32_at(0));
        return Err(ProcExit(i32_at(0)));
    }
    match name {
        "sched_yield" => return Ok(ERRNO_SUCCESS),
        "args_get" | "environ_get" => return Ok(ERRNO_SUCCESS),
        _ => {}
    }
    let Some(memory) = memory else {
        // check_abi refuses WASI modules without an exported memory, so
        // this is a module the host never saw.
        return Ok(ERRNO_FAULT);
    };
    let mut mem = Mem(memory);
    let errno = match dispatch(state, &mut mem, name, &i32_at, &u32_at, &i64_at) {
        Ok(()) => ERRNO_SUCCESS,
        Err(errno) => errno,
    };
    Ok(errno)
}

fn dispatch(
    s: &mut Wasi,
    mem: &mut Mem<'_>,
    name: &str,
    i32_at: &dyn Fn(usize) -> i32,
    u32_at: &dyn Fn(usize) -> u32,
    i64_at: &dyn Fn(usize) -> i64,
) -> Result<(), i32> {
    match name {
        "fd_write" | "fd_pwrite" => {
            let (fd, iovs, count) = (i32_at(0), u32_at(1), u32_at(2));
            // fd_pwrite has its offset (i64) before the result pointer.
            let nwritten = if name == "fd_write" {
                u32_at(3)
            } else {
                u32_at(4)
            };
            let target = match fd {
                1 if name == "fd_write" => &mut s.stdout,
                2 if name == "fd_write" => &mut s.stderr,
                1 | 2 => return Err(ERRNO_SPIPE),
                _ => return Err(ERRNO_BADF),
            };
            let mut total = 0u32;
            for (ptr, len) in mem.iovecs(iovs, count)? {
                target.push(mem.bytes(ptr, len)?);
                total = total.wrapping_add(len);
            }
            mem.put_u32(nwritten, total)
        }
        "fd_read" | "fd_pread" => {
            let (fd, iovs, count) = (i32_at(0) as u32, u32_at(1), u32_at(2));
            let (offset, nread) = if name == "fd_read" {
                (None, u32_at(3))
            } else {
                (Some(i64_at(3) as u64), u32_at(4))
            };
            if fd == 0 {
                // stdin is empty: end of file at once.
                return mem.put_u32(nread, 0);
            }
            let (index, pos) = match s.fds.get(&fd) {
                Some(Open::File { index, pos }) => (*index, *pos),
                Some(Open::Dir { .. }) => return Err(ERRNO_ISDIR),
                None => return Err(ERRNO_BADF),
            };
            let data = s.tree().files[index].1.get();
            let mut at = offset.unwrap_or(pos);
            let mut total = 0u32;
            for (ptr, len) in mem.iovecs(iovs, count)? {
                let start = (at.min(data.len() as u64)) as usize;
                let n = (len as usize).min(data.len() - start);
                mem.bytes_mut(ptr, n as u32)?
                    .copy_from_slice(&data[start..start + n]);
                at += n as u64;
                total += n as u32;
                if n < len as usize {
                    break;
                }
            }
            if offset.is_none()
                && let Some(Open::File { pos, .. }) = s.fds.get_mut(&fd)
            {
                *pos = at;
            }
            mem.put_u32(nread, total)
        }
        "fd_seek" | "fd_tell" => {
            let fd = i32_at(0) as u32;
            let (delta, whence, out) = if name == "fd_seek" {
                (i64_at(1), i32_at(2), u32_at(3))
            } else {
                (0, 1, u32_at(1))
            };
            let (index, pos) = match s.fds.get(&fd) {
                Some(Open::File { index, pos }) => (*index, *pos),
                Some(Open::Dir { .. }) => return Err(ERRNO_BADF),
                None if fd <= 2 => return Err(ERRNO_SPIPE),
                None => return Err(ERRNO_BADF),
            };
            let size = s.tree().files[index].1.len as i128;
            let base = match whence {
                0 => 0,
                1 => pos as i128,
                2 => size,
                _ => return Err(ERRNO_INVAL),
            };
            let new = base + delta as i128;
            if !(0..=i64::MAX as i128).contains(&new) {
                return Err(ERRNO_INVAL);
            }
            if let Some(Open::File { pos, .. }) = s.fds.get_mut(&fd) {
                *pos = new as u64;
            }
            mem.put_u64(out, new as u64)
        }
        "fd_close" => {
            let fd = i32_at(0) as u32;
            if fd <= 2 {
                return Ok(());
            }
            s.fds.remove(&fd).map(|_| ()).ok_or(ERRNO_BADF)
        }
        "fd_prestat_get" => {
            let (fd, buf) = (i32_at(0) as u32, u32_at(1));
            // EBADF past the last preopen ends libc's start-up scan; any
            // other errno there makes it exit with code 71.
            if fd != PREOPEN_FD || s.tree.is_none() {
                return Err(ERRNO_BADF);
            }
            // prestat: tag u8 (0 = directory), then the name length u32.
            mem.put(buf, &[0, 0, 0, 0])?;
            mem.put_u32(buf + 4, 1)
        }
        "fd_prestat_dir_name" => {
            let (fd, buf, len) = (i32_at(0) as u32, u32_at(1), u32_at(2));
            if fd != PREOPEN_FD || s.tree.is_none() {
                return Err(ERRNO_BADF);
            }
            if len < 1 {
                return Err(ERRNO_NAMETOOLONG);
            }
            mem.put(buf, b".")
        }
        "fd_fdstat_get" => {
            let (fd, buf) = (i32_at(0) as u32, u32_at(1));
            // fdstat: filetype u8, flags u16 at 2, rights base u64 at 8,
            // rights inheriting u64 at 16.
            let (filetype, base, inheriting) = match s.fds.get(&fd) {
                Some(Open::Dir { .. }) => {
                    (FILETYPE_DIRECTORY, DIR_RIGHTS, DIR_RIGHTS | FILE_RIGHTS)
                }
                Some(Open::File { .. }) => (FILETYPE_REGULAR_FILE, FILE_RIGHTS, 0),
                None if fd <= 2 => (FILETYPE_CHARACTER_DEVICE, u64::MAX, 0),
                None => return Err(ERRNO_BADF),
            };
            let out = mem.bytes_mut(buf, 24)?;
            out.fill(0);
            out[0] = filetype;
            out[8..16].copy_from_slice(&base.to_le_bytes());
            out[16..24].copy_from_slice(&inheriting.to_le_bytes());
            Ok(())
        }
        "fd_filestat_get" => {
            let (fd, buf) = (i32_at(0) as u32, u32_at(1));
            let stat = match s.fds.get(&fd) {
                Some(Open::Dir { .. }) => (FILETYPE_DIRECTORY, 0, 0),
                Some(Open::File { index, .. }) => (
                    FILETYPE_REGULAR_FILE,
                    s.tree().files[*index].1.len as u64,
                    *index as u64 + 1,
                ),
                None if fd <= 2 => (FILETYPE_CHARACTER_DEVICE, 0, 0),
                None => return Err(ERRNO_BADF),
            };
            filestat(mem, buf, stat)
        }
        "path_filestat_get" => {
            let (fd, path, len, buf) = (i32_at(0), u32_at(2), u32_at(3), u32_at(4));
            let path = s.resolve(fd, mem.bytes(path, len)?)?;
            let stat = match s.lookup(&path)? {
                Some(index) => (
                    FILETYPE_REGULAR_FILE,
                    s.tree().files[index].1.len as u64,
                    index as u64 + 1,
                ),
                None => (FILETYPE_DIRECTORY, 0, 0),
            };
            filestat(mem, buf, stat)
        }
        "path_open" => {
            let (fd, path, len, oflags) = (i32_at(0), u32_at(2), u32_at(3), i32_at(4));
            let (rights, fdflags, out) = (i64_at(5) as u64, i32_at(7), u32_at(8));
            let path = s.resolve(fd, mem.bytes(path, len)?)?;
            let found = s.lookup(&path);
            if oflags & OFLAGS_CREAT != 0 {
                match found {
                    Err(ERRNO_NOENT) => return Err(ERRNO_ROFS),
                    Ok(_) if oflags & OFLAGS_EXCL != 0 => return Err(ERRNO_EXIST),
                    _ => {}
                }
            }
            let found = found?;
            if oflags & OFLAGS_TRUNC != 0
                || fdflags & FDFLAGS_APPEND != 0
                || rights & WRITE_RIGHTS != 0
            {
                return Err(if found.is_none() {
                    ERRNO_ISDIR
                } else {
                    ERRNO_ROFS
                });
            }
            let open = match found {
                Some(index) if oflags & OFLAGS_DIRECTORY == 0 => Open::File { index, pos: 0 },
                Some(_) => return Err(ERRNO_NOTDIR),
                None => Open::Dir { path },
            };
            let new = s.free_fd();
            mem.put_u32(out, new)?;
            s.fds.insert(new, open);
            Ok(())
        }
        "fd_readdir" => {
            let (fd, buf, len, cookie, used) = (
                i32_at(0) as u32,
                u32_at(1),
                u32_at(2),
                i64_at(3) as u64,
                u32_at(4),
            );
            let dir = match s.fds.get(&fd) {
                Some(Open::Dir { path }) => path.clone(),
                Some(Open::File { .. }) => return Err(ERRNO_NOTDIR),
                None => return Err(ERRNO_BADF),
            };
            let mut entries = Vec::new();
            entries.push((".".to_string(), FILETYPE_DIRECTORY));
            entries.push(("..".to_string(), FILETYPE_DIRECTORY));
            entries.extend(s.tree().entries(&dir));
            // Each entry: d_next u64, d_ino u64, d_namlen u32, d_type u8,
            // padding to 24, then the name. A buffer that fills up holds a
            // truncated last entry and `used == len`, which tells libc to
            // call again with a larger buffer (preview1's contract).
            let mut out = Vec::new();
            for (k, (name, filetype)) in entries.iter().enumerate().skip(cookie as usize) {
                out.extend_from_slice(&(k as u64 + 1).to_le_bytes());
                out.extend_from_slice(&0u64.to_le_bytes());
                out.extend_from_slice(&(name.len() as u32).to_le_bytes());
                out.extend_from_slice(&[*filetype, 0, 0, 0]);
                out.extend_from_slice(name.as_bytes());
                if out.len() >= len as usize {
                    break;
                }
            }
            let n = out.len().min(len as usize);
            mem.put(buf, &out[..n])?;
            mem.put_u32(used, n as u32)
        }
        "fd_advise" => match s.fds.get(&(i32_at(0) as u32)) {
            Some(Open::File { .. }) => Ok(()),
            Some(Open::Dir { .. }) => Err(ERRNO_BADF),
            None => Err(ERRNO_BADF),
        },
        "path_create_directory"
        | "path_unlink_file"
        | "path_remove_directory"
        | "path_rename"
        | "path_symlink"
        | "path_link"
        | "path_filestat_set_times"
        | "fd_filestat_set_size"
        | "fd_filestat_set_times"
        | "fd_allocate" => {
            // Mutations of the read-only tree; path_symlink has the
            // directory as its second parameter.
            let fd = if name == "path_symlink" {
                i32_at(2)
            } else {
                i32_at(0)
            } as u32;
            if s.fds.contains_key(&fd) {
                Err(ERRNO_ROFS)
            } else {
                Err(ERRNO_BADF)
            }
        }
        "clock_time_get" => {
            let hz = s.tsc_hz.max(1);
            let ns = ((s.stamp)() as u128 * 1_000_000_000 / hz as u128) as u64;
            mem.put_u64(u32_at(2), ns)
        }
        "random_get" => {
            let (buf, len) = (u32_at(0), u32_at(1));
            let mut x = s.rng;
            for b in mem.bytes_mut(buf, len)? {
                // xorshift64: deterministic, so icount runs stay identical.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            s.rng = x;
            Ok(())
        }
        "args_sizes_get" | "environ_sizes_get" => {
            mem.put_u32(u32_at(0), 0)?;
            mem.put_u32(u32_at(1), 0)
        }
        other => {
            s.nosys.insert(other.to_string());
            Err(ERRNO_NOSYS)
        }
    }
}

/// Write a filestat: dev u64, ino u64, filetype u8 (at 16), nlink u64 (24),
/// size u64 (32), atim, mtim, ctim (40, 48, 56); 64 bytes.
fn filestat(mem: &mut Mem<'_>, buf: u32, (filetype, size, ino): (u8, u64, u64)) -> Result<(), i32> {
    let out = mem.bytes_mut(buf, 64)?;
    out.fill(0);
    out[8..16].copy_from_slice(&ino.to_le_bytes());
    out[16] = filetype;
    out[24..32].copy_from_slice(&1u64.to_le_bytes());
    out[32..40].copy_from_slice(&size.to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The real host functions driven with a byte buffer as guest memory,
    //! pinning every errno the module doc promises.

    use super::*;
    use alloc::vec;

    const INPUT: &[u8] = b"0123456789";
    const NESTED: &[u8] = b"nested\n";

    fn wasi() -> Wasi {
        let files = [
            ("data/nested.txt".to_string(), NESTED),
            ("input.txt".to_string(), INPUT),
        ];
        // SAFETY: the slices are 'static.
        let tree = unsafe { Tree::new(&files) };
        Wasi::new(Some(Arc::new(tree)), || 0, 1)
    }

    /// Guest memory: 64 KiB; strings go at 1024, results at 0.
    struct Guest {
        mem: Vec<u8>,
        wasi: Wasi,
    }

    impl Guest {
        fn new() -> Guest {
            Guest {
                mem: vec![0; 65536],
                wasi: wasi(),
            }
        }
        fn call(&mut self, name: &str, args: &[Val]) -> i32 {
            call(&mut self.wasi, Some(&mut self.mem), name, args).unwrap()
        }
        fn u32(&self, at: usize) -> u32 {
            u32::from_le_bytes(self.mem[at..at + 4].try_into().unwrap())
        }
        fn u64(&self, at: usize) -> u64 {
            u64::from_le_bytes(self.mem[at..at + 8].try_into().unwrap())
        }
        /// `path_open(dir, path)` with `oflags`, `rights`, `fdflags`;
        /// the errno and the new fd.
        fn open(
            &mut self,
            dir: i32,
            path: &str,
            oflags: i32,
            rights: u64,
            fdflags: i32,
        ) -> (i32, u32) {
            self.mem[1024..1024 + path.len()].copy_from_slice(path.as_bytes());
            let errno = self.call(
                "path_open",
                &[
                    Val::I32(dir),
                    Val::I32(1),
                    Val::I32(1024),
                    Val::I32(path.len() as i32),
                    Val::I32(oflags),
                    Val::I64(rights as i64),
                    Val::I64(rights as i64),
                    Val::I32(fdflags),
                    Val::I32(0),
                ],
            );
            (errno, self.u32(0))
        }
        /// `fd_read(fd)` of up to `len` bytes into 2048; the bytes read.
        fn read(&mut self, fd: u32, len: u32) -> Result<Vec<u8>, i32> {
            self.mem[16..20].copy_from_slice(&2048u32.to_le_bytes());
            self.mem[20..24].copy_from_slice(&len.to_le_bytes());
            match self.call(
                "fd_read",
                &[Val::I32(fd as i32), Val::I32(16), Val::I32(1), Val::I32(8)],
            ) {
                0 => {
                    let n = self.u32(8) as usize;
                    Ok(self.mem[2048..2048 + n].to_vec())
                }
                errno => Err(errno),
            }
        }
    }

    /// What a read-only open from wasi-libc or Rust std asks for: many
    /// rights it will not get, none of the write ones.
    const READ_ASK: u64 = !WRITE_RIGHTS & ((1 << 30) - 1);

    #[test]
    fn the_preopen_is_fd_3_named_dot_and_the_scan_ends_with_ebadf() {
        let mut g = Guest::new();
        assert_eq!(g.call("fd_prestat_get", &[Val::I32(3), Val::I32(0)]), 0);
        assert_eq!((g.mem[0], g.u32(4)), (0, 1));
        assert_eq!(
            g.call(
                "fd_prestat_dir_name",
                &[Val::I32(3), Val::I32(100), Val::I32(1)]
            ),
            0
        );
        assert_eq!(g.mem[100], b'.');
        assert_eq!(
            g.call("fd_prestat_get", &[Val::I32(4), Val::I32(0)]),
            ERRNO_BADF
        );
        // Without a tree (flat modules) there is no preopen at all.
        let mut flat = Wasi::new(None, || 0, 1);
        let mut mem = vec![0u8; 64];
        assert_eq!(
            call(
                &mut flat,
                Some(&mut mem),
                "fd_prestat_get",
                &[Val::I32(3), Val::I32(0)]
            ),
            Ok(ERRNO_BADF)
        );
        assert_eq!(g.call("fd_fdstat_get", &[Val::I32(3), Val::I32(0)]), 0);
        assert_eq!(g.mem[0], FILETYPE_DIRECTORY);
        assert_eq!(g.u64(16) & WRITE_RIGHTS, 0, "no write right is inherited");
    }

    #[test]
    fn files_open_read_seek_and_stat_from_the_image() {
        let mut g = Guest::new();
        let (errno, fd) = g.open(3, "input.txt", 0, READ_ASK, 0);
        assert_eq!((errno, fd), (0, 4));
        assert_eq!(g.read(fd, 4).unwrap(), b"0123");
        assert_eq!(g.read(fd, 100).unwrap(), b"456789");
        assert_eq!(g.read(fd, 100).unwrap(), b"", "end of file");
        // fd_seek(fd, -3, END)
        assert_eq!(
            g.call(
                "fd_seek",
                &[Val::I32(fd as i32), Val::I64(-3), Val::I32(2), Val::I32(0)]
            ),
            0
        );
        assert_eq!(g.u64(0), 7);
        assert_eq!(g.read(fd, 100).unwrap(), b"789");
        assert_eq!(g.call("fd_tell", &[Val::I32(fd as i32), Val::I32(0)]), 0);
        assert_eq!(g.u64(0), 10);
        assert_eq!(
            g.call(
                "fd_seek",
                &[Val::I32(fd as i32), Val::I64(-11), Val::I32(1), Val::I32(0)]
            ),
            ERRNO_INVAL
        );
        assert_eq!(
            g.call("fd_filestat_get", &[Val::I32(fd as i32), Val::I32(0)]),
            0
        );
        assert_eq!((g.mem[16], g.u64(32)), (FILETYPE_REGULAR_FILE, 10));
        // pread leaves the position alone.
        g.mem[16..20].copy_from_slice(&2048u32.to_le_bytes());
        g.mem[20..24].copy_from_slice(&2u32.to_le_bytes());
        let args = [
            Val::I32(fd as i32),
            Val::I32(16),
            Val::I32(1),
            Val::I64(1),
            Val::I32(8),
        ];
        assert_eq!(g.call("fd_pread", &args), 0);
        assert_eq!(&g.mem[2048..2050], b"12");
        assert_eq!(g.call("fd_tell", &[Val::I32(fd as i32), Val::I32(0)]), 0);
        assert_eq!(g.u64(0), 10);
        // A subdirectory, then a path through it and back up.
        let (errno, dir) = g.open(3, "data", OFLAGS_DIRECTORY, READ_ASK, 0);
        assert_eq!((errno, dir), (0, 5));
        let (errno, nested) = g.open(dir as i32, "../data/./nested.txt", 0, READ_ASK, 0);
        assert_eq!((errno, nested), (0, 6));
        assert_eq!(g.read(nested, 100).unwrap(), NESTED);
        g.mem[1024..1031].copy_from_slice(b"data/..");
        let args = [
            Val::I32(3),
            Val::I32(1),
            Val::I32(1024),
            Val::I32(7),
            Val::I32(0),
        ];
        assert_eq!(g.call("path_filestat_get", &args), 0);
        assert_eq!(g.mem[16], FILETYPE_DIRECTORY);
        // Closing frees the number for the next open (POSIX's lowest-free).
        assert_eq!(g.call("fd_close", &[Val::I32(fd as i32)]), 0);
        assert_eq!(g.call("fd_close", &[Val::I32(fd as i32)]), ERRNO_BADF);
        assert_eq!(g.open(3, "input.txt", 0, READ_ASK, 0), (0, 4));
    }

    #[test]
    fn writes_escapes_and_missing_files_get_their_errno() {
        let mut g = Guest::new();
        let cases: &[(&str, i32, u64, i32, i32)] = &[
            ("out.txt", OFLAGS_CREAT, READ_ASK, 0, ERRNO_ROFS),
            (
                "input.txt",
                OFLAGS_CREAT | OFLAGS_EXCL,
                READ_ASK,
                0,
                ERRNO_EXIST,
            ),
            ("input.txt", OFLAGS_TRUNC, READ_ASK, 0, ERRNO_ROFS),
            ("input.txt", 0, RIGHT_FD_WRITE, 0, ERRNO_ROFS),
            ("input.txt", 0, READ_ASK, FDFLAGS_APPEND, ERRNO_ROFS),
            ("data", 0, RIGHT_FD_WRITE, 0, ERRNO_ISDIR),
            ("../input.txt", 0, READ_ASK, 0, ERRNO_NOTCAPABLE),
            ("data/../../input.txt", 0, READ_ASK, 0, ERRNO_NOTCAPABLE),
            ("/input.txt", 0, READ_ASK, 0, ERRNO_NOTCAPABLE),
            ("missing.txt", 0, READ_ASK, 0, ERRNO_NOENT),
            ("input.txt/", 0, READ_ASK, 0, ERRNO_NOTDIR),
            ("input.txt", OFLAGS_DIRECTORY, READ_ASK, 0, ERRNO_NOTDIR),
            ("", 0, READ_ASK, 0, ERRNO_NOENT),
        ];
        for &(path, oflags, rights, fdflags, want) in cases {
            assert_eq!(
                g.open(3, path, oflags, rights, fdflags).0,
                want,
                "{path:?} {oflags}"
            );
        }
        assert_eq!(g.open(9, "input.txt", 0, READ_ASK, 0).0, ERRNO_BADF);
        let (_, fd) = g.open(3, "input.txt", 0, READ_ASK, 0);
        assert_eq!(g.open(fd as i32, "x", 0, READ_ASK, 0).0, ERRNO_NOTDIR);
        // fd_write on an input file: not open for writing.
        g.mem[16..24].copy_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]);
        let args = [Val::I32(fd as i32), Val::I32(16), Val::I32(1), Val::I32(8)];
        assert_eq!(g.call("fd_write", &args), ERRNO_BADF);
        assert_eq!(g.read(3, 10), Err(ERRNO_ISDIR));
        g.mem[1024..1033].copy_from_slice(b"input.txt");
        let args = [Val::I32(3), Val::I32(1024), Val::I32(9)];
        assert_eq!(g.call("path_unlink_file", &args), ERRNO_ROFS);
        assert_eq!(g.call("path_create_directory", &args), ERRNO_ROFS);
        // A guest pointer out of bounds is EFAULT, never a host panic.
        let args = [
            Val::I32(fd as i32),
            Val::I32(65534),
            Val::I32(1),
            Val::I32(8),
        ];
        assert_eq!(g.call("fd_read", &args), ERRNO_FAULT);
    }

    #[test]
    fn readdir_lists_dot_dotdot_and_the_entries_then_resumes_at_a_cookie() {
        let mut g = Guest::new();
        let args = [
            Val::I32(3),
            Val::I32(4096),
            Val::I32(4096),
            Val::I64(0),
            Val::I32(0),
        ];
        assert_eq!(g.call("fd_readdir", &args), 0);
        let used = g.u32(0) as usize;
        let mut names = Vec::new();
        let mut at = 4096;
        while at < 4096 + used {
            let len = g.u32(at + 16) as usize;
            names.push((
                String::from_utf8(g.mem[at + 24..at + 24 + len].to_vec()).unwrap(),
                g.mem[at + 20],
                g.u64(at),
            ));
            at += 24 + len;
        }
        assert_eq!(
            names,
            [
                (".".to_string(), FILETYPE_DIRECTORY, 1),
                ("..".to_string(), FILETYPE_DIRECTORY, 2),
                ("data".to_string(), FILETYPE_DIRECTORY, 3),
                ("input.txt".to_string(), FILETYPE_REGULAR_FILE, 4),
            ]
        );
        // From cookie 3: the last entry only.
        let args = [
            Val::I32(3),
            Val::I32(4096),
            Val::I32(4096),
            Val::I64(3),
            Val::I32(0),
        ];
        assert_eq!(g.call("fd_readdir", &args), 0);
        assert_eq!(g.u32(0), 24 + 9);
        // A buffer too small is filled completely (libc then grows it).
        let args = [
            Val::I32(3),
            Val::I32(4096),
            Val::I32(30),
            Val::I64(0),
            Val::I32(0),
        ];
        assert_eq!(g.call("fd_readdir", &args), 0);
        assert_eq!(g.u32(0), 30);
    }

    #[test]
    fn output_is_kept_whole_up_to_the_limit_and_overflow_is_seen() {
        let mut g = Guest::new();
        g.mem[16..24].copy_from_slice(&[0, 0x10, 0, 0, 0, 0x80, 0, 0]);
        let args = [Val::I32(1), Val::I32(16), Val::I32(1), Val::I32(8)];
        for _ in 0..(OUTPUT_LIMIT / 0x8000) {
            assert_eq!(g.call("fd_write", &args), 0);
        }
        assert_eq!(g.u32(8), 0x8000);
        assert!(!g.wasi.stdout.overflowed());
        assert_eq!(g.wasi.stdout.bytes.len(), OUTPUT_LIMIT);
        assert_eq!(g.call("fd_write", &args), 0);
        assert!(g.wasi.stdout.overflowed());
        assert_eq!(g.wasi.stdout.written, OUTPUT_LIMIT as u64 + 0x8000);
        assert!(g.wasi.stderr.bytes.is_empty());
    }
}
