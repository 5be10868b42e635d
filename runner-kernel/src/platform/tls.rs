//! `wasmtime_tls_get` / `wasmtime_tls_set`: wasmtime's thread-local slots.
//!
//! The kernel runs one task on one core, so "thread-local" is global. Two
//! slots: slot 0 is the runtime's, slot 1 is used only with
//! component-model-async (kept so a future build with it still links).

use core::sync::atomic::{AtomicPtr, Ordering};

static SLOTS: [AtomicPtr<u8>; 2] = [const { AtomicPtr::new(core::ptr::null_mut()) }; 2];

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_tls_get(slot: usize) -> *mut u8 {
    SLOTS[slot].load(Ordering::Relaxed)
}

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_tls_set(slot: usize, ptr: *mut u8) {
    SLOTS[slot].store(ptr, Ordering::Relaxed);
}

/// Both slots, for [`restore`].
pub fn save() -> [*mut u8; 2] {
    [
        SLOTS[0].load(Ordering::Relaxed),
        SLOTS[1].load(Ordering::Relaxed),
    ]
}

/// Put the slots back as [`save`] found them. After the kernel abandons a
/// wasm call midway (a contained fault, the watchdog), wasmtime's slot
/// still points at the abandoned call's state on the stack; the next call
/// must not see it.
pub fn restore(saved: [*mut u8; 2]) {
    SLOTS[0].store(saved[0], Ordering::Relaxed);
    SLOTS[1].store(saved[1], Ordering::Relaxed);
}
