//! The peer's signal handler, installed in front of wasmtime's.
//!
//! wasmtime installs its handlers for SIGSEGV, SIGILL, SIGFPE and SIGBUS
//! when the first engine with signals-based traps is created. The peer then
//! puts its own handler in front of each (and of SIGTRAP, which wasmtime
//! leaves alone): it takes the `handler` stamp, counts the signal and keeps
//! its number and `si_code`, then calls the handler it displaced with the
//! same `siginfo`/`ucontext` — wasmtime's, which for a wasm trap rewrites
//! the `ucontext` to resume in its trampoline and returns, exactly as when
//! it is installed alone. The forwarding costs a handful of instructions
//! inside the `handler_to_return` stage.
//!
//! For the floor experiments (signals raised by the peer's own code) the
//! handler does not forward: the raising code has put its resume address in
//! `r11`, and the handler moves RIP there.

use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use traplab_runner_core::FaultSeen;

/// Signals the front handler stands in front of.
pub const SIGNALS: [c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGBUS,
    libc::SIGTRAP,
];

static COUNT: AtomicU64 = AtomicU64::new(0);
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);
static LAST_CODE: AtomicI32 = AtomicI32::new(0);
/// TSC at the entry of the front handler, for the latest signal.
pub static HANDLER_TSC: AtomicU64 = AtomicU64::new(0);
/// While set, a signal is the floor's own: resume at `r11`, do not forward.
static FLOOR: AtomicBool = AtomicBool::new(false);

/// The displaced handlers, `sa_sigaction` and `sa_flags` per signal number
/// (written before the front handler is installed, read only by it).
static PREVIOUS_ACTION: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];
static PREVIOUS_FLAGS: [AtomicI32; 32] = [const { AtomicI32::new(0) }; 32];

/// Serialized TSC read, as the lab kernel's (`lfence; rdtsc; lfence`).
#[inline(always)]
pub fn stamp() -> u64 {
    // SAFETY: lfence and rdtsc have no memory effects and are available on
    // every x86-64 CPU (Linux does not set CR4.TSD).
    unsafe {
        core::arch::x86_64::_mm_lfence();
        let t = core::arch::x86_64::_rdtsc();
        core::arch::x86_64::_mm_lfence();
        t
    }
}

/// `(signals seen, the latest)`.
pub fn counters() -> (u64, FaultSeen) {
    let signal = LAST_SIGNAL.load(Ordering::Relaxed);
    (
        COUNT.load(Ordering::Relaxed),
        FaultSeen {
            vector: None,
            signal: (signal != 0).then_some(signal as u8),
            si_code: (signal != 0).then(|| LAST_CODE.load(Ordering::Relaxed)),
        },
    )
}

/// Run `f` with signals treated as the floor's own (resumed at `r11`).
pub fn as_floor<R>(f: impl FnOnce() -> R) -> R {
    FLOOR.store(true, Ordering::SeqCst);
    let r = f();
    FLOOR.store(false, Ordering::SeqCst);
    r
}

unsafe extern "C" fn front(signo: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    HANDLER_TSC.store(stamp(), Ordering::Relaxed);
    COUNT.fetch_add(1, Ordering::Relaxed);
    LAST_SIGNAL.store(signo, Ordering::Relaxed);
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    LAST_CODE.store(unsafe { (*info).si_code }, Ordering::Relaxed);
    if FLOOR.load(Ordering::Relaxed) {
        // SAFETY: `context` is the ucontext of the interrupted thread; the
        // floor's raising code loaded its resume address into r11.
        unsafe {
            let uc = &mut *context.cast::<libc::ucontext_t>();
            let gregs = &mut uc.uc_mcontext.gregs;
            gregs[libc::REG_RIP as usize] = gregs[libc::REG_R11 as usize];
        }
        return;
    }
    let slot = signo as usize % 32;
    let action = PREVIOUS_ACTION[slot].load(Ordering::Relaxed);
    let flags = PREVIOUS_FLAGS[slot].load(Ordering::Relaxed);
    if flags & libc::SA_SIGINFO != 0 {
        // SAFETY: a SA_SIGINFO handler has this signature; it was installed
        // for this signal (wasmtime's `trap_handler`).
        let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { core::mem::transmute(action) };
        handler(signo, info, context);
    } else if action == libc::SIG_DFL || action == libc::SIG_IGN {
        // Nobody else wants it: put the default back and return, so the
        // faulting instruction runs again and the process dies the normal
        // way (what wasmtime itself does for a fault that is not wasm's).
        // SAFETY: a zeroed sigaction with SIG_DFL is a valid disposition.
        unsafe {
            let mut default: libc::sigaction = core::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signo, &default, core::ptr::null_mut());
        }
    } else {
        // SAFETY: a plain handler installed for this signal.
        let handler: extern "C" fn(c_int) = unsafe { core::mem::transmute(action) };
        handler(signo);
    }
}

/// Put the front handler in front of whatever handles [`SIGNALS`] now.
/// Call after wasmtime installed its handlers; calling again does nothing.
/// Returns the signals wasmtime had no handler for (SIGTRAP is expected
/// among them), so the caller can tell whether wasmtime's were in place.
pub fn install_front() -> Result<Vec<c_int>, String> {
    let mut unhandled = Vec::new();
    for signo in SIGNALS {
        // SAFETY: an all-zero sigaction is a valid value (no handler, no
        // flags, empty mask) for sigaction to overwrite.
        let mut current: libc::sigaction = unsafe { core::mem::zeroed() };
        // SAFETY: sigaction with a null new action only reads the current.
        if unsafe { libc::sigaction(signo, core::ptr::null(), &mut current) } != 0 {
            return Err(format!(
                "sigaction({signo}) read: {}",
                std::io::Error::last_os_error()
            ));
        }
        if current.sa_sigaction == front as *const () as usize {
            continue;
        }
        if current.sa_sigaction == libc::SIG_DFL || current.sa_sigaction == libc::SIG_IGN {
            unhandled.push(signo);
        }
        let slot = signo as usize % 32;
        PREVIOUS_ACTION[slot].store(current.sa_sigaction, Ordering::SeqCst);
        PREVIOUS_FLAGS[slot].store(current.sa_flags, Ordering::SeqCst);
        // Same flags as wasmtime's own (SA_ONSTACK: it relies on the
        // alternate stack for stack overflows; SA_NODEFER: re-entry while
        // handling), plus SA_SIGINFO for the siginfo and ucontext.
        // SAFETY: a zeroed sigaction is valid once handler, flags and mask
        // are set; `front` has the SA_SIGINFO signature.
        unsafe {
            let mut ours: libc::sigaction = core::mem::zeroed();
            ours.sa_sigaction = front as *const () as usize;
            ours.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigemptyset(&mut ours.sa_mask);
            if libc::sigaction(signo, &ours, core::ptr::null_mut()) != 0 {
                return Err(format!(
                    "sigaction({signo}) install: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
    }
    Ok(unhandled)
}
