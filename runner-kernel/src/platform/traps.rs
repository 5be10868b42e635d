//! `wasmtime_init_traps`: connects wasmtime's trap handler to the kernel's
//! exception handlers *through the Theseus-style API*, not around it.
//!
//! wasmtime hands over one function, `handler(ip, fp, has_faulting_addr,
//! faulting_addr)`. [`wasm_trap_handler`] is registered for every category
//! a wasm trap can raise and forwards to it. If the faulting PC is in wasm
//! code with a trap code, wasmtime does not return: it resumes into its entry
//! trampoline and the embedder's call returns `Err(Trap)`; the exception
//! frame is abandoned. If it returns, the exception was not a wasm trap and
//! the dispatcher tries containment, then answers `Action::Unhandled` (a
//! kernel fault).

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::arch::cpu;
use crate::exceptions::{self, Action, Category, ExceptionContext};

type WasmtimeTrapHandler =
    extern "C" fn(ip: usize, fp: usize, has_faulting_addr: bool, faulting_addr: usize);

static WASMTIME_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// TSC right before wasmtime's trap handler is entered (fourth stage stamp).
pub static WASMTIME_TSC: AtomicU64 = AtomicU64::new(0);

/// Categories whose exceptions wasm code can raise: #PF (guard pages, null
/// funcref), #UD (`ud2` trap sites), #DE (division), and, for completeness,
/// the bus-error vectors.
const WASM_CATEGORIES: [Category; 4] = Category::ALL;

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_init_traps(handler: WasmtimeTrapHandler) -> i32 {
    let previous = WASMTIME_HANDLER.swap(handler as usize, Ordering::AcqRel);
    if previous != 0 {
        // wasmtime initialises traps once per process; a second call only
        // refreshes the pointer, the kernel handlers are already in place.
        return 0;
    }
    for category in WASM_CATEGORIES {
        if exceptions::register_handler(category, wasm_trap_handler).is_err() {
            return 1;
        }
    }
    0
}

/// The handler registered for wasm-trap categories.
fn wasm_trap_handler(ctx: &ExceptionContext) -> Option<Action> {
    let handler = WASMTIME_HANDLER.load(Ordering::Acquire);
    if handler == 0 {
        return None;
    }
    // SAFETY: only `wasmtime_init_traps` stores non-zero values, and they
    // are wasmtime's handler function pointers.
    let handler: WasmtimeTrapHandler = unsafe { core::mem::transmute(handler) };
    WASMTIME_TSC.store(cpu::stamp(), Ordering::Relaxed);
    handler(
        ctx.instruction_pointer as usize,
        ctx.frame_pointer as usize,
        ctx.faulting_address.is_some(),
        ctx.faulting_address.unwrap_or(0) as usize,
    );
    // Returned: the PC is not a wasm trap site.
    None
}
