//! The peer's containment of one experiment: a Rust panic inside it (in
//! wasmtime, a host function, the runner) unwinds to
//! [`std::panic::catch_unwind`] and fails that experiment only.
//!
//! The peer is built with the default `panic = "unwind"` (the workspace
//! sets no panic strategy), and wasmtime with `std` carries a host
//! function's panic across the wasm frames itself (it catches it at the
//! host-call boundary and resumes unwinding once wasm is left), so the
//! experiment's store and instance are dropped on the way: nothing leaks
//! and wasmtime's own state stays consistent.
//!
//! Faults are not contained here: wasm traps stay wasmtime's (its signal
//! handlers, behind the peer's front handler, are untouched), and a
//! SIGSEGV wasmtime does not claim goes to the default disposition and
//! ends the peer, which the host reports as a crash — Linux's answer, and
//! the honest one for a process that cannot know what the fault broke.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::{Mutex, Once};

use traplab_runner_core::Abandoned;

thread_local! {
    /// Whether a contained experiment is running on this thread: the panic
    /// hook then keeps the panic for [`contain`] instead of printing it.
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

/// What the hook kept of the last contained panic.
static CAUGHT: Mutex<Option<Abandoned>> = Mutex::new(None);

/// Run `f` with panics contained; `Err` names the panic, where it
/// happened and its backtrace.
pub fn contain<R>(f: impl FnOnce() -> R) -> Result<R, Abandoned> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINING.with(Cell::get) {
                *CAUGHT.lock().unwrap_or_else(|e| e.into_inner()) = Some(describe(info));
            } else {
                default(info);
            }
        }));
    });
    let outer = CONTAINING.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|c| c.set(outer));
    result.map_err(|payload| {
        CAUGHT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| Abandoned {
                reason: format!("panic: {}", payload_text(payload.as_ref())),
                backtrace: Vec::new(),
            })
    })
}

/// The panic as the lab kernel reports one: message, location, and the
/// backtrace's function names, innermost first (the hook's and std's own
/// frames left out). Captured whatever `RUST_LIB_BACKTRACE` says (the
/// peer pins it to 0 for wasmtime's errors, not for this).
fn describe(info: &PanicHookInfo<'_>) -> Abandoned {
    let message = payload_text(info.payload());
    let reason = match info.location() {
        Some(l) => format!(
            "panic at {}:{}:{}: {message}",
            l.file(),
            l.line(),
            l.column()
        ),
        None => format!("panic: {message}"),
    };
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    // Frames print as "  N: name" followed by "at file:line" lines.
    let backtrace = trace
        .lines()
        .filter_map(|line| {
            let (index, name) = line.trim_start().split_once(": ")?;
            index.parse::<u32>().ok().map(|_| name.to_string())
        })
        .skip_while(|name| {
            name.starts_with("std::")
                || name.starts_with("core::")
                || name.starts_with("traplab_peer::contain::")
                || name.starts_with("<alloc::boxed::Box")
                || name.contains("rust_begin_unwind")
        })
        .collect();
    Abandoned { reason, backtrace }
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("(a non-string panic payload)")
    }
}
