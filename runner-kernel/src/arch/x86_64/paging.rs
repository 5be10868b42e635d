//! The page mapper: map, unmap and re-protect 4 KiB pages in the active page
//! tables.
//!
//! Page-table walking is the `x86_64` crate's `OffsetPageTable` with offset
//! 0, valid because the boot stub identity-maps all physical memory below
//! 4 GiB and every frame the kernel hands out lies there (`crate::mm`).
//! Unmapped really means not present: guard pages fault.

use x86_64::structures::paging::mapper::{MapToError, UnmapError};
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags, PhysFrame, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

pub const PAGE_SIZE: u64 = 4096;

/// Access rights of a mapped page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    pub write: bool,
    pub execute: bool,
}

impl Protection {
    fn flags(self) -> PageTableFlags {
        let mut flags = PageTableFlags::PRESENT;
        if self.write {
            flags |= PageTableFlags::WRITABLE;
        }
        if !self.execute {
            flags |= PageTableFlags::NO_EXECUTE;
        }
        flags
    }
}

/// Where page-table frames come from: the kernel's frame allocator.
pub trait FrameSource {
    /// A free 4 KiB physical frame (zeroing is the caller's business).
    fn allocate(&mut self) -> Option<u64>;
}

struct Adapter<'a, F: FrameSource>(&'a mut F);

// SAFETY: the frame source hands out each free frame once.
unsafe impl<F: FrameSource> FrameAllocator<Size4KiB> for Adapter<'_, F> {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        let addr = self.0.allocate()?;
        // Page tables must start zeroed (all entries not present).
        // SAFETY: the frame is free, below 4 GiB and identity mapped.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, PAGE_SIZE as usize) };
        Some(PhysFrame::containing_address(PhysAddr::new(addr)))
    }
}

#[derive(Debug)]
pub enum PagingError {
    OutOfFrames,
    AlreadyMapped,
    NotMapped,
    HugePage,
}

fn active_table() -> OffsetPageTable<'static> {
    let (frame, _) = x86_64::registers::control::Cr3::read();
    // SAFETY: the PML4 frame is identity mapped; the kernel is single-core
    // and callers hold `crate::mm`'s lock, so there is one user at a time.
    unsafe {
        let pml4 = &mut *(frame.start_address().as_u64() as *mut PageTable);
        OffsetPageTable::new(pml4, VirtAddr::new(0))
    }
}

/// Map the page at `va` to `frame` with `prot`.
pub fn map(
    va: u64,
    frame: u64,
    prot: Protection,
    frames: &mut impl FrameSource,
) -> Result<(), PagingError> {
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
    let frame = PhysFrame::containing_address(PhysAddr::new(frame));
    // Intermediate tables are writable and executable; the leaf decides.
    let parents = PageTableFlags::PRESENT | PageTableFlags::WRITABLE;
    // SAFETY: the caller owns `frame` and the virtual page is free.
    let result = unsafe {
        active_table().map_to_with_table_flags(
            page,
            frame,
            prot.flags(),
            parents,
            &mut Adapter(frames),
        )
    };
    match result {
        Ok(flush) => {
            flush.flush();
            Ok(())
        }
        Err(MapToError::FrameAllocationFailed) => Err(PagingError::OutOfFrames),
        Err(MapToError::PageAlreadyMapped(_)) => Err(PagingError::AlreadyMapped),
        Err(MapToError::ParentEntryHugePage) => Err(PagingError::HugePage),
    }
}

/// Unmap the page at `va`, returning the frame it mapped.
pub fn unmap(va: u64) -> Result<u64, PagingError> {
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
    match active_table().unmap(page) {
        Ok((frame, flush)) => {
            flush.flush();
            Ok(frame.start_address().as_u64())
        }
        Err(UnmapError::ParentEntryHugePage) => Err(PagingError::HugePage),
        Err(_) => Err(PagingError::NotMapped),
    }
}

/// Change the rights of the mapped page at `va`.
pub fn protect(va: u64, prot: Protection) -> Result<(), PagingError> {
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
    // SAFETY: only the leaf flags of a page the caller owns change.
    match unsafe { active_table().update_flags(page, prot.flags()) } {
        Ok(flush) => {
            flush.flush();
            Ok(())
        }
        Err(_) => Err(PagingError::NotMapped),
    }
}

/// The leaf flags of the present page at `va`.
fn present_flags(va: u64) -> Result<PageTableFlags, PagingError> {
    use x86_64::structures::paging::mapper::{Translate, TranslateResult};
    match active_table().translate(VirtAddr::new(va)) {
        TranslateResult::Mapped { flags, .. } => Ok(flags),
        _ => Err(PagingError::NotMapped),
    }
}

fn set_flags(va: u64, flags: PageTableFlags) -> Result<(), PagingError> {
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
    // SAFETY: only the leaf flags of a page the caller owns change; the
    // frame stays where it is.
    match unsafe { active_table().update_flags(page, flags) } {
        Ok(flush) => {
            flush.flush();
            Ok(())
        }
        Err(_) => Err(PagingError::NotMapped),
    }
}

/// Whether `va` is mapped (present), at any page size.
pub fn mapped(va: u64) -> bool {
    present_flags(va).is_ok()
}

/// Make the mapped page at `va` not present while keeping its frame (and
/// so its contents): every access faults until [`reinstate`]. Returns the
/// flags to reinstate it with. Fault injection's page revoke.
pub fn revoke(va: u64) -> Result<u64, PagingError> {
    let flags = present_flags(va)?;
    set_flags(va, flags - PageTableFlags::PRESENT)?;
    Ok(flags.bits())
}

/// Undo [`revoke`].
pub fn reinstate(va: u64, flags: u64) -> Result<(), PagingError> {
    set_flags(va, PageTableFlags::from_bits_truncate(flags))
}

/// Whether the CPU set the accessed bit of the page at `va` since it was
/// last cleared (`None`: not mapped). With `clear`, clear it (and flush
/// the page's TLB entry, so the next access sets it again).
pub fn accessed(va: u64, clear: bool) -> Option<bool> {
    let flags = present_flags(va).ok()?;
    if clear && flags.contains(PageTableFlags::ACCESSED) {
        set_flags(va, flags - PageTableFlags::ACCESSED).ok()?;
    }
    Some(flags.contains(PageTableFlags::ACCESSED))
}

/// Split the boot stub's 2 MiB page covering `va` into 512 4 KiB pages
/// with the same rights (a new page table from `frames`), so that one 4 KiB
/// page of the identity map can be changed alone. A no-op when `va` is
/// already in a 4 KiB page.
fn split_identity(va: u64, frames: &mut impl FrameSource) -> Result<(), PagingError> {
    let addr = VirtAddr::new(va);
    let (pml4_frame, _) = x86_64::registers::control::Cr3::read();
    // SAFETY: the boot tables are identity mapped and only this module
    // edits them, under `crate::mm`'s lock.
    unsafe {
        let pml4 = &mut *(pml4_frame.start_address().as_u64() as *mut PageTable);
        let pdpt = &mut *(pml4[addr.p4_index()].addr().as_u64() as *mut PageTable);
        let pd = &mut *(pdpt[addr.p3_index()].addr().as_u64() as *mut PageTable);
        let entry = &mut pd[addr.p2_index()];
        if entry.flags().contains(PageTableFlags::HUGE_PAGE) {
            let base = entry.addr().as_u64();
            let flags = entry.flags() - PageTableFlags::HUGE_PAGE;
            let table = Adapter(frames)
                .allocate_frame()
                .ok_or(PagingError::OutOfFrames)?;
            let pt = &mut *(table.start_address().as_u64() as *mut PageTable);
            for (i, pte) in pt.iter_mut().enumerate() {
                pte.set_addr(PhysAddr::new(base + i as u64 * PAGE_SIZE), flags);
            }
            entry.set_addr(table.start_address(), flags);
            x86_64::instructions::tlb::flush_all();
        }
    }
    Ok(())
}

/// Unmap the 4 KiB page at `va` inside the boot identity map (splitting
/// the 2 MiB boot page around it). Used for the null page and the kernel
/// stack's guard page.
pub fn unmap_identity_page(va: u64, frames: &mut impl FrameSource) -> Result<(), PagingError> {
    split_identity(va, frames)?;
    // The frame behind the page is not the frame allocator's: drop it.
    unmap(va).map(|_| ())
}

/// Give the 4 KiB page at `va` inside the boot identity map the rights
/// `prot` (splitting the 2 MiB boot page around it); its other bits
/// (caching, accessed, dirty) stay. Used to make the kernel image's code
/// and read-only data read-only.
pub fn protect_identity_page(
    va: u64,
    prot: Protection,
    frames: &mut impl FrameSource,
) -> Result<(), PagingError> {
    split_identity(va, frames)?;
    let rights = PageTableFlags::WRITABLE | PageTableFlags::NO_EXECUTE;
    let flags = (present_flags(va)? - rights) | (prot.flags() & rights);
    set_flags(va, flags)
}

/// Make the identity-mapped page at `va` uncacheable (PCD and PWT: PAT
/// entry 3, UC). Device registers must not be cached and the boot stub
/// maps everything write-back; firmware MTRRs usually make such ranges UC
/// anyway, but the page tables should not rely on that. Changes the whole
/// 2 MiB boot page if `va` is still inside one. For boot-time set-up, when
/// nothing else edits the tables.
pub fn set_identity_uncached(va: u64) -> Result<(), PagingError> {
    use x86_64::structures::paging::Size2MiB;
    use x86_64::structures::paging::mapper::{MappedFrame, Translate, TranslateResult};
    let addr = VirtAddr::new(va);
    let mut table = active_table();
    let TranslateResult::Mapped { frame, flags, .. } = table.translate(addr) else {
        return Err(PagingError::NotMapped);
    };
    let flags = flags | PageTableFlags::NO_CACHE | PageTableFlags::WRITE_THROUGH;
    // SAFETY: only the caching bits of an existing mapping change.
    let updated = unsafe {
        match frame {
            MappedFrame::Size4KiB(_) => table
                .update_flags(Page::<Size4KiB>::containing_address(addr), flags)
                .map(|f| f.flush()),
            MappedFrame::Size2MiB(_) => table
                .update_flags(Page::<Size2MiB>::containing_address(addr), flags)
                .map(|f| f.flush()),
            MappedFrame::Size1GiB(_) => return Err(PagingError::HugePage),
        }
    };
    updated.map_err(|_| PagingError::NotMapped)
}

/// Bits 62:59 of a leaf entry: the page's protection key (`super::pks`).
const KEY_SHIFT: u64 = 59;
const KEY_MASK: u64 = 0xF << KEY_SHIFT;

/// Give every present page of the identity map in `[start, end)` (page
/// aligned outward) the protection key `key`: a whole boot 2 MiB page
/// keeps its size when the range covers it, and is split into 4 KiB pages
/// at the range's edges. Not-present pages (guards) are skipped. For
/// set-up, under `crate::mm`'s lock, before any isolated call.
pub fn set_identity_key(
    start: u64,
    end: u64,
    key: u8,
    frames: &mut impl FrameSource,
) -> Result<(), PagingError> {
    const HUGE: u64 = 2 << 20;
    let with_key = |entry: &mut x86_64::structures::paging::page_table::PageTableEntry| {
        let bits = (entry.flags().bits() & !KEY_MASK) | (u64::from(key) << KEY_SHIFT);
        let addr = entry.addr();
        entry.set_addr(addr, PageTableFlags::from_bits_retain(bits));
    };
    let mut va = start & !(PAGE_SIZE - 1);
    while va < end {
        let addr = VirtAddr::new(va);
        let (pml4_frame, _) = x86_64::registers::control::Cr3::read();
        // SAFETY: the boot tables and every table split from them are
        // identity mapped; only this module edits them, under
        // `crate::mm`'s lock; only the key bits of leaf entries change.
        let step = unsafe {
            let pml4 = &mut *(pml4_frame.start_address().as_u64() as *mut PageTable);
            let pdpt = &mut *(pml4[addr.p4_index()].addr().as_u64() as *mut PageTable);
            let pd = &mut *(pdpt[addr.p3_index()].addr().as_u64() as *mut PageTable);
            let entry = &mut pd[addr.p2_index()];
            if !entry.flags().contains(PageTableFlags::PRESENT) {
                HUGE - (va & (HUGE - 1))
            } else if entry.flags().contains(PageTableFlags::HUGE_PAGE)
                && va & (HUGE - 1) == 0
                && va + HUGE <= end
            {
                with_key(entry);
                HUGE
            } else {
                split_identity(va, frames)?;
                let pt = &mut *(pd[addr.p2_index()].addr().as_u64() as *mut PageTable);
                let pte = &mut pt[addr.p1_index()];
                if pte.flags().contains(PageTableFlags::PRESENT) {
                    with_key(pte);
                }
                PAGE_SIZE
            }
        };
        va += step;
    }
    x86_64::instructions::tlb::flush_all();
    Ok(())
}
