//! Theseus-style exception handling: one handler per exception *category*,
//! registered at run time, receiving an arch-neutral context.
//!
//! The vector → category map is Theseus's (`kernel/exceptions_full`):
//!
//! | category             | POSIX   | vectors                                   |
//! |----------------------|---------|-------------------------------------------|
//! | `InvalidAddress`     | SIGSEGV | #BR 0x05, #SS 0x0C, #PF 0x0E              |
//! | `IllegalInstruction` | SIGILL  | #UD 0x06, #NM 0x07, #DF 0x08, #TS 0x0A, #GP 0x0D |
//! | `BusError`           | SIGBUS  | #NP 0x0B, #AC 0x11                        |
//! | `Arithmetic`         | SIGFPE  | #DE 0x00, #OF 0x04, #MF 0x10, #XM 0x13    |
//!
//! Split by job, as Theseus splits `exceptions_early` from
//! `exceptions_full`:
//! - [`vectors`]: the names — [`Exception`], its vector, error code and
//!   [`Category`]; no state;
//! - [`handlers`]: the full path — registration, counters, [`dispatch`];
//! - the unhandled path (fault record, end record, exit) is `crate::fault`'s,
//!   called by the arch entry, never from here: nothing in this module
//!   calls `crate::fault`, so a kernel fault is decided here and reported
//!   there.
//!
//! Unlike Theseus, the path is short and resumable: [`dispatch`] does no
//! logging or unwinding before calling the handler, and a handler may resume
//! the faulting code ([`Action`]) or, as wasmtime's does, not return at all.
//!
//! Dispatch order for every exception (steps 1 and 4 are
//! `crate::recovery`'s, the one room for "fault address → landing"):
//! 1. a resume address for the faulting RIP: the kernel's fixup table
//!    (`crate::arch::raise`), expected faults in kernel code that resume at
//!    a known label (the raw-exception floor), or the JIT region of
//!    code the kernel JIT-compiled itself;
//! 2. demand paging (`crate::mm::handle_demand_fault`) for #PF;
//! 3. the handler registered for the exception's category;
//! 4. containment: during a wasm call under fault injection, a fault
//!    the handler did not claim — in the target's code, or in runtime code
//!    working for it — abandons the call (`runner::campaign`); during a
//!    suite experiment, any fault the handler did not claim abandons the
//!    experiment (`runner::lab`'s `contain`); never while the heap or page
//!    mapper is locked;
//! 5. otherwise [`dispatch`] answers [`Action::Unhandled`]: the arch entry
//!    (`crate::arch::idt`) hands the exception to the unhandled path,
//!    `crate::fault`, which reports it and ends the run.
//!
//! Nothing on this path takes a lock that ordinary code may hold while it
//! runs wasm: a wasm trap abandons this path midway (wasmtime resumes into
//! its trampoline), so a lock taken here would never be released.

mod handlers;
mod vectors;

pub use handlers::{
    Action, AlreadyRegistered, DISPATCH_DELAY_CYCLES, ExceptionContext, HANDLER_TSC, counters,
    dispatch, register_handler,
};
pub use vectors::{Category, Exception};
