//! Static working memory for kernels too big for the stack.
//!
//! Kernels allocate nothing (the crate is `no_std` without `alloc`), and the
//! larger ones need hundreds of KiB: too much for a wasm shadow stack of
//! 64 KiB or a kernel stack, and re-zeroing a stack array on every call
//! would add work the kernel does not need. So each such kernel owns a
//! `static` [`Scratch`].
//!
//! A `Scratch` is a minimal spin lock around its buffer. In the kernel and
//! in wasm (both single-threaded here) it is never contended and costs one
//! atomic swap and one store per call; it exists so the host tests, which
//! run in parallel threads, stay sound, and so the API stays safe.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A buffer that one caller at a time may use.
pub struct Scratch<T> {
    busy: AtomicBool,
    buffer: UnsafeCell<T>,
}

// SAFETY: `with` hands out the `&mut T` only while holding `busy`, so at most
// one thread accesses the buffer at a time; moving that access between
// threads needs `T: Send`.
unsafe impl<T: Send> Sync for Scratch<T> {}

/// Releases the lock when the closure returns (or unwinds, on the host).
struct Release<'a>(&'a AtomicBool);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<T> Scratch<T> {
    pub const fn new(initial: T) -> Self {
        Scratch {
            busy: AtomicBool::new(false),
            buffer: UnsafeCell::new(initial),
        }
    }

    /// Run `f` with exclusive access to the buffer. The buffer keeps
    /// whatever the previous caller left in it: kernels must initialise
    /// what they read.
    ///
    /// Spins while another thread holds it; calling `with` on the same
    /// `Scratch` from inside `f` would spin forever (no kernel does).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        while self
            .busy
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        let _release = Release(&self.busy);
        // SAFETY: `busy` was false and is now true, set by this call; every
        // other access goes through `with`, which waits for it to be false
        // again, so this is the only reference to the buffer until
        // `_release` drops after `f` returns.
        let buffer = unsafe { &mut *self.buffer.get() };
        f(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_its_contents_between_calls() {
        static CELL: Scratch<[u32; 4]> = Scratch::new([0; 4]);
        CELL.with(|b| b[2] = 7);
        assert_eq!(CELL.with(|b| b[2]), 7);
    }
}
