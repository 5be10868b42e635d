//! `wasmtime_mmap_*`, `wasmtime_munmap`, `wasmtime_mprotect`,
//! `wasmtime_page_size`, `wasmtime_memory_image_*`: virtual memory for
//! linear memories, code and tables, backed by `crate::mm`.
//!
//! Reservations are real: address space is reserved unmapped, and only the
//! ranges wasmtime makes accessible get page frames, so an access past the
//! accessible part of a linear memory hits a not-present page and raises
//! #PF — the out-of-bounds trap the experiments measure.

use crate::arch::paging::{PAGE_SIZE, Protection};
use crate::mm::{self, VmError};

const PROT_READ: u32 = 1 << 0;
const PROT_WRITE: u32 = 1 << 1;
const PROT_EXEC: u32 = 1 << 2;

/// Error codes returned to wasmtime (it only tests for non-zero); errno
/// values so a message reads naturally.
const ENOMEM: i32 = 12;
const EINVAL: i32 = 22;

/// `None` for "no access" (unmapped), else the page rights.
fn protection(prot: u32) -> Option<Protection> {
    (prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0).then_some(Protection {
        write: prot & PROT_WRITE != 0,
        execute: prot & PROT_EXEC != 0,
    })
}

fn status(result: Result<(), VmError>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(VmError::OutOfFrames | VmError::OutOfAddressSpace) => ENOMEM,
        Err(VmError::Paging(_)) => EINVAL,
    }
}

fn page_aligned(addr: *mut u8) -> bool {
    (addr as u64).is_multiple_of(PAGE_SIZE)
}

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_mmap_new(size: usize, prot_flags: u32, ret: &mut *mut u8) -> i32 {
    let result = mm::reserve(size as u64).and_then(|base| {
        if let Some(prot) = protection(prot_flags) {
            mm::protect(base, size as u64, Some(prot))?;
        }
        *ret = base as *mut u8;
        Ok(())
    });
    status(result)
}

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_mmap_remap(addr: *mut u8, size: usize, prot_flags: u32) -> i32 {
    if !page_aligned(addr) {
        return EINVAL;
    }
    // Replace with a blank mapping: drop every committed page, then commit
    // fresh zeroed ones if the new rights allow access.
    let result =
        mm::protect(addr as u64, size as u64, None).and_then(|()| match protection(prot_flags) {
            Some(prot) => mm::protect(addr as u64, size as u64, Some(prot)),
            None => Ok(()),
        });
    status(result)
}

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_munmap(ptr: *mut u8, size: usize) -> i32 {
    if !page_aligned(ptr) {
        return EINVAL;
    }
    // wasmtime unmaps a whole mapping when it drops it: the range goes
    // back to `mm` for reuse.
    status(mm::release(ptr as u64, size as u64))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_mprotect(ptr: *mut u8, size: usize, prot_flags: u32) -> i32 {
    if !page_aligned(ptr) {
        return EINVAL;
    }
    status(mm::protect(ptr as u64, size as u64, protection(prot_flags)))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_page_size() -> usize {
    PAGE_SIZE as usize
}

/// Copy-on-write images are off (`memory_init_cow(false)` in the shared
/// config), and storing NULL tells wasmtime "no image" without failing.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_memory_image_new(
    _ptr: *const u8,
    _len: usize,
    ret: &mut *mut u8,
) -> i32 {
    *ret = core::ptr::null_mut();
    0
}

/// Never called: `wasmtime_memory_image_new` never creates an image.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_memory_image_map_at(
    _image: *mut u8,
    _addr: *mut u8,
    _len: usize,
) -> i32 {
    panic!("wasmtime_memory_image_map_at called, but no memory image was ever created")
}

/// Never called with a non-NULL image, for the same reason.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_memory_image_free(image: *mut u8) {
    assert!(
        image.is_null(),
        "wasmtime_memory_image_free on an image this kernel never created"
    );
}
