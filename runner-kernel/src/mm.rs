//! Physical frames, the kernel heap, and the virtual-memory regions that
//! wasmtime and the demand-paging experiment use.
//!
//! ```text
//!  virtual address space (one for everything; all code runs in ring 0)
//!
//!  0x0000_0000_0000_0000 ┌──────────────────────────────┐ page 0: never mapped, so
//!  0x0000_0000_0000_1000 │ identity map of physical     │ null dereferences fault
//!                        │ memory 0..4 GiB (boot stub,  │ kernel image at 1 MiB, heap,
//!                        │ 2 MiB pages)                 │ page frames, boot modules
//!  0x0000_0001_0000_0000 ├──────────────────────────────┤
//!                        │ unused                       │
//!  0x0000_0800_0000_0000 ├──────────────────────────────┤ DEMAND_BASE: demand-paged
//!                        │ demand-paging test region    │ pages (raw.pf_demand)
//!  0x0000_1000_0000_0000 ├──────────────────────────────┤ MAPPINGS_BASE
//!                        │ wasmtime mappings, 4 KiB     │ linear memories with their
//!                        │ pages, bump-allocated VA     │ 6 GiB reservations, code,
//!                        │                              │ tables; guards unmapped
//!  0x0000_7fff_ffff_ffff └──────────────────────────────┘ end of the lower half
//! ```
//!
//! Physical memory comes from the boot loader's memory map. The heap is one
//! contiguous range carved from the largest usable region; every other
//! usable frame below 4 GiB (so that the identity map reaches it) feeds the
//! frame allocator. Memory above 4 GiB is left unused; say so in the header
//! via `usable_bytes` vs what is managed.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use spin::Mutex;

use crate::arch::paging::{self, FrameSource, PAGE_SIZE, PagingError, Protection};
use crate::bootinfo::{BootInfo, MemoryRegion};

/// The kernel heap: talc, a binned boundary-tag allocator with near-constant
/// allocation and O(1) free. The allocator sits on the trap path (wasmtime
/// allocates on every trap) and under in-kernel Cranelift, so a list-walking
/// allocator would show up in every figure. `counters` gives heap usage.
static HEAP: talc::TalcLock<spin::mutex::SpinMutex<()>, talc::source::Manual> =
    talc::TalcLock::new(talc::source::Manual);

/// The trial arena: a second talc heap, mapped at [`TRIAL_ARENA_BASE`]
/// rather than in the identity map, for the wasm instances of a
/// fault-injection campaign ([`in_trial_arena`]).
///
/// Why: wasm code keeps pointers to its instance's runtime data (its
/// `VMContext`, where it also stores its globals) in registers. When one of
/// those registers has a bit flipped (the register bit-flip injector, or a
/// real upset), the next store through it lands at that pointer with one
/// bit changed. With the instance on the kernel heap, that is anywhere in
/// the 4 GiB identity map: the kernel's heap (its page-mapper trees, say),
/// statics, stacks — silent corruption that crashes the kernel later.
/// With the instance here, a flip of bit 0..=44 stays in this arena or
/// lands in unmapped address space (a page fault, contained), a flip of
/// bit 45 or 46 lands 16 or 32 TiB into the wasm mappings' range (unmapped
/// unless that much was ever reserved), and higher bits make the address
/// non-canonical (#GP): no single flip reaches kernel memory. The arena's own allocator state can
/// still be hit, and only campaign instances live here.
static TRIAL_HEAP: talc::TalcLock<spin::mutex::SpinMutex<()>, talc::source::Manual> =
    talc::TalcLock::new(talc::source::Manual);
/// Bits 45 and 46 set: two bits away from every address below 4 GiB (the
/// identity map, the kernel), see [`TRIAL_HEAP`].
const TRIAL_ARENA_BASE: u64 = 0x0000_6000_0000_0000;
/// The arena's extent once mapped; `(0, 0)` before.
static TRIAL_RANGE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
/// Whether allocations go to the trial arena now.
static IN_TRIAL: AtomicBool = AtomicBool::new(false);

/// The kernel's allocator: the heap, or the trial arena while
/// [`in_trial_arena`] runs. A block is freed to the heap it came from.
struct KernelAllocator;

#[global_allocator]
static ALLOCATOR: KernelAllocator = KernelAllocator;

fn from_arena(ptr: *mut u8) -> bool {
    let p = ptr as u64;
    p >= TRIAL_RANGE[0].load(Ordering::Relaxed) && p < TRIAL_RANGE[1].load(Ordering::Relaxed)
}

// SAFETY: each block is allocated by one talc heap and returned to the
// same one (`from_arena` tells them apart by address); talc upholds the
// `GlobalAlloc` contract for each.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if IN_TRIAL.load(Ordering::Relaxed) {
            // SAFETY: forwarded contract.
            let p = unsafe { TRIAL_HEAP.alloc(layout) };
            if !p.is_null() {
                return p;
            }
            // A full (or unmapped) arena: the heap still serves.
        }
        // SAFETY: forwarded contract.
        unsafe { HEAP.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the block came from the heap `from_arena` names.
        unsafe {
            if from_arena(ptr) {
                TRIAL_HEAP.dealloc(ptr, layout)
            } else {
                HEAP.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let arena = from_arena(ptr);
        if arena == IN_TRIAL.load(Ordering::Relaxed) {
            let heap = if arena { &TRIAL_HEAP } else { &HEAP };
            // SAFETY: the block came from `heap`.
            let p = unsafe { heap.realloc(ptr, layout, new_size) };
            if !p.is_null() || !arena {
                return p;
            }
        }
        // Move the block to where allocations go now.
        // SAFETY: `new_size` is valid for `layout.align()` (realloc's
        // contract); the copy covers what both blocks hold.
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

/// Run `f` with its allocations in the trial arena (the kernel heap when
/// the arena is not set up or full). The page mapper's own bookkeeping
/// stays on the kernel heap either way (`with_vm`).
pub fn in_trial_arena<R>(f: impl FnOnce() -> R) -> R {
    let was = IN_TRIAL.swap(true, Ordering::Relaxed);
    let result = f();
    IN_TRIAL.store(was, Ordering::Relaxed);
    result
}

/// Map the trial arena (`bytes`, with unmapped guard pages around it).
/// Once; later calls do nothing.
pub fn init_trial_arena(bytes: u64) -> Result<(), VmError> {
    if TRIAL_RANGE[1].load(Ordering::Relaxed) != 0 {
        return Ok(());
    }
    let start = TRIAL_ARENA_BASE + PAGE_SIZE;
    let bytes = align_up(bytes, PAGE_SIZE);
    with_vm(|vm| {
        for page in (start..start + bytes).step_by(PAGE_SIZE as usize) {
            map_zeroed(
                vm,
                page,
                Protection {
                    write: true,
                    execute: false,
                },
            )?;
        }
        Ok::<(), VmError>(())
    })?;
    // SAFETY: the range was just mapped for this heap alone.
    unsafe { TRIAL_HEAP.lock().claim(start as *mut u8, bytes as usize) }
        .ok_or(VmError::OutOfAddressSpace)?;
    TRIAL_RANGE[0].store(start, Ordering::Relaxed);
    TRIAL_RANGE[1].store(start + bytes, Ordering::Relaxed);
    Ok(())
}

/// Bytes currently allocated in the trial arena.
pub fn trial_arena_used() -> u64 {
    TRIAL_HEAP.lock().counters().allocated_bytes as u64
}

/// Upper bound of the heap; most memory is better spent on page frames
/// (linear memories, code).
const HEAP_MAX_BYTES: u64 = 128 << 20;
/// Identity-mapped physical memory: the frame allocator stays below it.
const IDENTITY_LIMIT: u64 = 4 << 30;
/// Low memory (BIOS data, option ROMs, PVH start info) is never handed out.
const LOW_MEMORY_END: u64 = 1 << 20;

pub const DEMAND_BASE: u64 = 0x0000_0800_0000_0000;
pub const DEMAND_BYTES: u64 = 1 << 30;
const MAPPINGS_BASE: u64 = 0x0000_1000_0000_0000;
/// The wasm mappings stay below the trial arena.
const MAPPINGS_END: u64 = TRIAL_ARENA_BASE;

struct Frames {
    /// Usable ranges not yet handed out, consumed front to back.
    ranges: Vec<(u64, u64)>,
    /// Frames given back by `unmap`, reused first.
    free: Vec<u64>,
    in_use: u64,
}

impl FrameSource for Frames {
    fn allocate(&mut self) -> Option<u64> {
        let frame = if let Some(f) = self.free.pop() {
            f
        } else {
            let range = self.ranges.iter_mut().find(|(s, e)| e - s >= PAGE_SIZE)?;
            let f = range.0;
            range.0 += PAGE_SIZE;
            f
        };
        self.in_use += 1;
        Some(frame)
    }
}

impl Frames {
    fn release(&mut self, frame: u64) {
        self.in_use -= 1;
        self.free.push(frame);
    }
}

struct Vm {
    frames: Frames,
    /// Next never-used virtual address for wasmtime mappings.
    next_va: u64,
    /// Released ranges by size, reused before `next_va` moves: the lower
    /// half holds only about 18,000 6 GiB reservations, fewer than a
    /// fault-injection campaign creates instances, and reusing a range
    /// also reuses the page tables already built for it. wasmtime asks for
    /// the same few sizes again and again, so exact-size reuse suffices.
    released: BTreeMap<u64, Vec<u64>>,
    /// Every 4 KiB page currently mapped in the mappings and demand regions,
    /// so unmapping a 6 GiB reservation visits only what was committed.
    mapped: BTreeSet<u64>,
}

static VM: Mutex<Option<Vm>> = Mutex::new(None);

/// Sizes the run header reports.
#[derive(Debug, Clone, Copy)]
pub struct MemoryStats {
    pub usable_bytes: u64,
    pub heap_bytes: u64,
}

#[derive(Debug)]
pub enum VmError {
    OutOfFrames,
    OutOfAddressSpace,
    Paging(#[allow(dead_code, reason = "shown through Debug in panic messages")] PagingError),
}

impl From<PagingError> for VmError {
    fn from(e: PagingError) -> Self {
        match e {
            PagingError::OutOfFrames => VmError::OutOfFrames,
            other => VmError::Paging(other),
        }
    }
}

/// Set up the heap and the frame allocator from the boot memory map.
/// `reserved` lists physical ranges in use (kernel image, boot modules, boot
/// information) that must not be handed out.
pub fn init(boot: &BootInfo, reserved: &[(u64, u64)]) -> MemoryStats {
    let usable_bytes: u64 = boot.memory_map().filter(|r| r.usable).map(|r| r.len).sum();

    // Usable, identity-mapped ranges minus everything reserved, in a fixed
    // array because the heap does not exist yet.
    let mut free = [(0u64, 0u64); 64];
    let mut count = 0;
    for MemoryRegion { start, len, usable } in boot.memory_map() {
        if !usable {
            continue;
        }
        let end = (start + len).min(IDENTITY_LIMIT);
        let start = start.max(LOW_MEMORY_END);
        subtract(start, end, reserved, &mut |s, e| {
            let s = align_up(s, PAGE_SIZE);
            let e = e & !(PAGE_SIZE - 1);
            if e > s && count < free.len() {
                free[count] = (s, e);
                count += 1;
            }
        });
    }
    // The heap and the frame pool together are exactly these ranges: what
    // `isolate_kernel` tags.
    for (slot, range) in KERNEL_RAM.iter().zip(&free[..count]) {
        slot[0].store(range.0, Ordering::Relaxed);
        slot[1].store(range.1, Ordering::Relaxed);
    }
    let free = &mut free[..count];
    let largest = free
        .iter_mut()
        .max_by_key(|(s, e)| e - s)
        .expect("the memory map has no usable memory above 1 MiB");
    let heap_bytes = ((largest.1 - largest.0) / 4).min(HEAP_MAX_BYTES) & !(PAGE_SIZE - 1);
    let heap_start = largest.0;
    largest.0 += heap_bytes;
    // SAFETY: the range is usable RAM, identity mapped, reserved for the
    // heap alone and initialised exactly once.
    unsafe {
        HEAP.lock()
            .claim(heap_start as *mut u8, heap_bytes as usize)
    }
    .expect("claiming the heap");

    let ranges: Vec<(u64, u64)> = free.iter().copied().filter(|(s, e)| e > s).collect();
    *VM.lock() = Some(Vm {
        frames: Frames {
            ranges,
            free: Vec::new(),
            in_use: 0,
        },
        next_va: MAPPINGS_BASE,
        released: BTreeMap::new(),
        mapped: BTreeSet::new(),
    });
    MemoryStats {
        usable_bytes,
        heap_bytes,
    }
}

/// The identity-mapped RAM the kernel manages (the heap and the frame
/// pool, from which page tables come), recorded by [`init`]; `(0, 0)`
/// slots are unused.
static KERNEL_RAM: [[AtomicU64; 2]; 64] = [const { [AtomicU64::new(0), AtomicU64::new(0)] }; 64];

/// Trial isolation (a campaign's `isolation = "pks"`): tag the kernel's
/// heap, its frame pool (page tables, and the identity-map view of every
/// frame mapped elsewhere) and its stack and boot page tables with the
/// protection key an isolated call cannot write (`arch::pks`), then turn
/// PKS on. Wasm memories, the trial arena and the trial stack are mapped
/// outside the identity map and keep key 0, as do the kernel's statics
/// and the IST stacks (the CPU pushes exception frames there during an
/// isolated call). Once; with every key open outside isolated calls, the
/// tags change nothing else.
pub fn isolate_kernel() -> Result<(), &'static str> {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    if !crate::arch::pks::supported() {
        return Err("the CPU has no supervisor protection keys (CPUID.7.0:ECX[31])");
    }
    let (stack_start, stack_end) = crate::arch::boot::stack_and_boot_tables();
    with_vm(|vm| {
        let mut tag = |start: u64, end: u64| {
            paging::set_identity_key(start, end, crate::arch::pks::KERNEL_KEY, &mut vm.frames)
        };
        for range in &KERNEL_RAM {
            let (start, end) = (
                range[0].load(Ordering::Relaxed),
                range[1].load(Ordering::Relaxed),
            );
            if end > start {
                tag(start, end)?;
            }
        }
        tag(stack_start, stack_end)
    })
    .map_err(|_| "tagging kernel memory failed (out of frames for page-table splits)")?;
    crate::arch::pks::enable()?;
    // Exceptions during an isolated call enter with the keys opened.
    crate::arch::idt::use_isolated_stubs();
    DONE.store(true, Ordering::Relaxed);
    Ok(())
}

/// Whether `addr` lies in memory [`isolate_kernel`] tagged: a contained
/// fault there is a write the isolation stopped.
pub fn is_isolated_kernel_memory(addr: u64) -> bool {
    let (stack_start, stack_end) = crate::arch::boot::stack_and_boot_tables();
    (stack_start..stack_end).contains(&addr)
        || KERNEL_RAM
            .iter()
            .any(|r| (r[0].load(Ordering::Relaxed)..r[1].load(Ordering::Relaxed)).contains(&addr))
}

/// Call `out` with the parts of `[start, end)` not covered by `reserved`.
fn subtract(start: u64, end: u64, reserved: &[(u64, u64)], out: &mut impl FnMut(u64, u64)) {
    if start >= end {
        return;
    }
    for &(rs, re) in reserved {
        if rs < end && re > start {
            subtract(start, rs, reserved, out);
            subtract(re, end, reserved, out);
            return;
        }
    }
    out(start, end);
}

fn align_up(v: u64, to: u64) -> u64 {
    v.div_ceil(to) * to
}

/// Unmap the null page and the kernel stack's guard page, so that null
/// dereferences and kernel stack overflows fault instead of reading page 0
/// or overwriting memory below the stack; and make the kernel's code
/// read-only (executable) and its read-only data read-only (not
/// executable), so that a wild write (a fault-injection campaign's flipped
/// pointer, a kernel bug) faults where it happens instead of silently
/// changing the code that measures and recovers. Must run after the boot
/// information (which may lie in page 0) has been copied.
pub fn protect_kernel() -> Result<(), VmError> {
    unsafe extern "C" {
        static __text_start: u8;
        static __rodata_start: u8;
        static __rodata_end: u8;
    }
    // Only the addresses of the linker's symbols are used.
    let text = &raw const __text_start as u64;
    let rodata = &raw const __rodata_start as u64;
    let end = &raw const __rodata_end as u64;
    let code = Protection {
        write: false,
        execute: true,
    };
    let data = Protection {
        write: false,
        execute: false,
    };
    with_vm(|vm| {
        for page in [0, crate::arch::boot::stack_guard_page()] {
            paging::unmap_identity_page(page, &mut vm.frames)?;
        }
        for page in (text..end).step_by(PAGE_SIZE as usize) {
            let prot = if page < rodata { code } else { data };
            paging::protect_identity_page(page, prot, &mut vm.frames)?;
        }
        Ok(())
    })
}

/// Bytes currently allocated on the heap.
pub fn heap_used() -> u64 {
    HEAP.lock().counters().allocated_bytes as u64
}

/// Frames currently mapped for wasmtime and the demand region.
pub fn frames_in_use() -> u64 {
    VM.lock().as_ref().map_or(0, |vm| vm.frames.in_use)
}

fn with_vm<R>(f: impl FnOnce(&mut Vm) -> R) -> R {
    // The mapper's trees and lists are kernel state: never in the trial
    // arena, where a flipped pointer in wasm code could reach them.
    let arena = IN_TRIAL.swap(false, Ordering::Relaxed);
    // The mapper writes the heap (its trees) and the frame pool (page
    // tables, zeroed frames): legitimately, also during an isolated
    // trial (a `memory.grow`), so it opens the protection keys.
    let result = crate::arch::pks::writable(|| f(VM.lock().as_mut().expect("mm::init ran")));
    IN_TRIAL.store(arena, Ordering::Relaxed);
    result
}

/// Reserve `size` bytes of address space (rounded up to pages), all
/// unmapped. Returns the base.
pub fn reserve(size: u64) -> Result<u64, VmError> {
    with_vm(|vm| {
        let size = align_up(size, PAGE_SIZE);
        if let Some(base) = vm.released.get_mut(&size).and_then(Vec::pop) {
            return Ok(base);
        }
        let base = vm.next_va;
        let end = base
            .checked_add(size)
            .filter(|&e| e <= MAPPINGS_END)
            .ok_or(VmError::OutOfAddressSpace)?;
        vm.next_va = end;
        Ok(base)
    })
}

/// Give back `[va, va+size)`, which [`reserve`] returned: unmap (and free)
/// every page and let a later reservation of the same size reuse it.
pub fn release(va: u64, size: u64) -> Result<(), VmError> {
    protect(va, size, None)?;
    with_vm(|vm| {
        vm.released
            .entry(align_up(size, PAGE_SIZE))
            .or_default()
            .push(va)
    });
    Ok(())
}

/// Give `[va, va+size)` the rights `prot`; `None` unmaps (and frees) every
/// page, so the range faults on access. Newly mapped pages are zeroed.
pub fn protect(va: u64, size: u64, prot: Option<Protection>) -> Result<(), VmError> {
    with_vm(|vm| {
        let end = va + align_up(size, PAGE_SIZE);
        match prot {
            None => {
                let pages: Vec<u64> = vm.mapped.range(va..end).copied().collect();
                for page in pages {
                    unmap_page(vm, page)?;
                }
            }
            Some(prot) => {
                let mut page = va;
                while page < end {
                    if vm.mapped.contains(&page) {
                        paging::protect(page, prot)?;
                    } else {
                        map_zeroed(vm, page, prot)?;
                    }
                    page += PAGE_SIZE;
                }
            }
        }
        Ok(())
    })
}

fn map_zeroed(vm: &mut Vm, page: u64, prot: Protection) -> Result<(), VmError> {
    let frame = vm.frames.allocate().ok_or(VmError::OutOfFrames)?;
    // SAFETY: the frame is free, below 4 GiB and identity mapped.
    unsafe { core::ptr::write_bytes(frame as *mut u8, 0, PAGE_SIZE as usize) };
    if let Err(e) = paging::map(page, frame, prot, &mut vm.frames) {
        vm.frames.release(frame);
        return Err(e.into());
    }
    vm.mapped.insert(page);
    Ok(())
}

fn unmap_page(vm: &mut Vm, page: u64) -> Result<(), VmError> {
    let frame = paging::unmap(page)?;
    vm.frames.release(frame);
    vm.mapped.remove(&page);
    Ok(())
}

/// Demand paging: if `addr` lies in the demand region and is not mapped,
/// map a zeroed read-write page there and return true (the faulting access
/// is then retried). Called from the exception dispatcher, so it never
/// waits for the lock: if the fault hit code holding it, it is a real fault.
pub fn handle_demand_fault(addr: u64) -> bool {
    if !(DEMAND_BASE..DEMAND_BASE + DEMAND_BYTES).contains(&addr) {
        return false;
    }
    let Some(mut guard) = VM.try_lock() else {
        return false;
    };
    let Some(vm) = guard.as_mut() else {
        return false;
    };
    let page = addr & !(PAGE_SIZE - 1);
    !vm.mapped.contains(&page)
        && map_zeroed(
            vm,
            page,
            Protection {
                write: true,
                execute: false,
            },
        )
        .is_ok()
}

/// Unmap a page of the demand region so the next access faults again.
pub fn evict_demand_page(addr: u64) {
    let page = addr & !(PAGE_SIZE - 1);
    with_vm(|vm| {
        if vm.mapped.contains(&page) {
            let _ = unmap_page(vm, page);
        }
    });
}

/// Fault injection: make the mapped page at `va` fault on every access,
/// keeping its frame. Never waits for the lock (it runs in the timer
/// interrupt too): `None` if the lock is busy or the page is not mapped.
/// Returns what [`reinstate_page`] needs.
pub fn revoke_page(va: u64) -> Option<u64> {
    let guard = VM.try_lock()?;
    let vm = guard.as_ref()?;
    let page = va & !(PAGE_SIZE - 1);
    if !vm.mapped.contains(&page) {
        return None;
    }
    paging::revoke(page).ok()
}

/// Undo [`revoke_page`].
pub fn reinstate_page(va: u64, flags: u64) {
    let _guard = VM.lock();
    let _ = paging::reinstate(va & !(PAGE_SIZE - 1), flags);
}

/// The pages of `[start, start+len)` whose accessed bit is set, as offsets
/// from `start`; with `clear`, every page's bit is cleared afterwards.
pub fn accessed_pages(start: u64, len: u64, clear: bool) -> Vec<u64> {
    let _guard = VM.lock();
    let mut touched = Vec::new();
    let mut page = start & !(PAGE_SIZE - 1);
    while page < start + len {
        if paging::accessed(page, clear) == Some(true) {
            touched.push(page - start);
        }
        page += PAGE_SIZE;
    }
    touched
}

/// Whether neither the heap nor the page mapper is locked: the condition
/// for abandoning code midway (`runner::campaign`'s containment) without
/// leaving a lock held forever.
pub fn unlocked() -> bool {
    HEAP.try_lock().is_some() && TRIAL_HEAP.try_lock().is_some() && VM.try_lock().is_some()
}
