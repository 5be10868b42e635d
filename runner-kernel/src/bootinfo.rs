//! What the boot loader tells the kernel: memory map, command line, modules.
//!
//! Two protocols reach the same kernel (see `arch::boot`): PVH, from
//! `qemu -kernel` (Xen's `hvm_start_info`), and multiboot2, from GRUB. Both
//! are read in place, without allocating, because the heap is built from
//! the memory map read here. The structure layouts are those of Xen's
//! `arch-x86/hvm/start_info.h` and the Multiboot2 specification §3.6.
//!
//! GRUB reaches the kernel from legacy BIOS firmware or from UEFI (the
//! hybrid image of `harness/src/iso.rs` holds both). Under UEFI it adds the
//! EFI system table and the firmware's own memory map as tags and, unless
//! asked otherwise (this kernel does not ask), exits boot services before
//! the jump, so the kernel owns the machine as after a BIOS boot. The BIOS
//! memory map tag is derived by GRUB from the firmware's map and is not
//! promised under UEFI, so the EFI map is the fallback.

use core::slice;

use crate::arch::boot::{BOOT_MULTIBOOT2, BOOT_PVH};

const PVH_MAGIC: u32 = 0x336e_c578;
const MULTIBOOT2_MAGIC: u32 = 0x36d7_6289;
/// E820 / multiboot2 type of ordinary usable RAM.
const MEMORY_AVAILABLE: u32 = 1;

#[repr(C)]
struct PvhStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    // version >= 1
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
struct PvhModule {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

#[repr(C)]
struct PvhMemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

#[repr(C)]
struct Mb2Tag {
    kind: u32,
    size: u32,
}

const MB2_TAG_END: u32 = 0;
const MB2_TAG_CMDLINE: u32 = 1;
const MB2_TAG_MODULE: u32 = 3;
const MB2_TAG_MMAP: u32 = 6;
/// EFI system table pointers (32- and 64-bit firmware): present only when
/// GRUB was started by UEFI firmware, so they tell the boot paths apart.
const MB2_TAG_EFI32: u32 = 11;
const MB2_TAG_EFI64: u32 = 12;
/// The firmware's memory map (UEFI `GetMemoryMap` descriptors).
const MB2_TAG_EFI_MMAP: u32 = 17;

/// UEFI memory types (UEFI 2.10 §7.2, `EFI_MEMORY_TYPE`) that are free RAM
/// once boot services have exited. Loader code and data (1, 2) are left
/// out on purpose: GRUB allocates the kernel, its modules and this very
/// boot information there, and nothing in them says which parts are free.
const EFI_BOOT_SERVICES_CODE: u32 = 3;
const EFI_BOOT_SERVICES_DATA: u32 = 4;
const EFI_CONVENTIONAL_MEMORY: u32 = 7;
/// UEFI pages are 4 KiB whatever the platform's page size.
const EFI_PAGE_BYTES: u64 = 4096;

/// One entry of the memory map.
#[derive(Debug, Clone, Copy)]
pub struct MemoryRegion {
    pub start: u64,
    pub len: u64,
    pub usable: bool,
}

/// A boot module (the suite image).
#[derive(Debug, Clone, Copy)]
pub struct Module {
    pub start: u64,
    pub len: u64,
}

impl Module {
    /// The module's bytes. They stay valid for the whole run: the range is
    /// excluded from the frame allocator and the heap (see `crate::mm`).
    pub fn bytes(&self) -> &'static [u8] {
        // SAFETY: the loader placed the module there, it is identity mapped
        // and nothing in the kernel writes to it.
        unsafe { slice::from_raw_parts(self.start as *const u8, self.len as usize) }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Protocol {
    Pvh(u64),
    Multiboot2(u64),
}

/// A validated pointer to the loader's boot information.
#[derive(Debug, Clone, Copy)]
pub struct BootInfo {
    protocol: Protocol,
}

#[derive(Debug)]
pub enum BootInfoError {
    UnknownProtocol(u32),
    BadPvhMagic(u32),
    PvhWithoutMemoryMap { version: u32 },
    BadMultiboot2Magic(u32),
}

impl core::fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootInfoError::UnknownProtocol(p) => write!(f, "boot stub passed unknown protocol {p}"),
            BootInfoError::BadPvhMagic(m) => write!(
                f,
                "PVH start info has magic {m:#x}, expected {PVH_MAGIC:#x}"
            ),
            BootInfoError::PvhWithoutMemoryMap { version } => {
                write!(
                    f,
                    "PVH start info version {version} carries no memory map (need version 1)"
                )
            }
            BootInfoError::BadMultiboot2Magic(m) => {
                write!(
                    f,
                    "multiboot2 entry with EAX={m:#x}, expected {MULTIBOOT2_MAGIC:#x}"
                )
            }
        }
    }
}

impl BootInfo {
    /// Interpret the registers the boot stub passed on.
    ///
    /// # Safety
    /// `info` must be the physical address the loader handed over for
    /// `protocol`, identity mapped and not yet overwritten.
    pub unsafe fn new(protocol: u32, info: u32, magic: u32) -> Result<BootInfo, BootInfoError> {
        let addr = info as u64;
        match protocol {
            BOOT_PVH => {
                // SAFETY: per the caller, `addr` is the hvm_start_info.
                let start = unsafe { &*(addr as *const PvhStartInfo) };
                if start.magic != PVH_MAGIC {
                    return Err(BootInfoError::BadPvhMagic(start.magic));
                }
                if start.version < 1 || start.memmap_paddr == 0 {
                    return Err(BootInfoError::PvhWithoutMemoryMap {
                        version: start.version,
                    });
                }
                Ok(BootInfo {
                    protocol: Protocol::Pvh(addr),
                })
            }
            BOOT_MULTIBOOT2 if magic == MULTIBOOT2_MAGIC => Ok(BootInfo {
                protocol: Protocol::Multiboot2(addr),
            }),
            BOOT_MULTIBOOT2 => Err(BootInfoError::BadMultiboot2Magic(magic)),
            other => Err(BootInfoError::UnknownProtocol(other)),
        }
    }

    /// How the kernel was entered, for the run header's `boot` field:
    /// `pvh` (qemu -kernel), `multiboot2-bios` or `multiboot2-uefi` (GRUB
    /// started by legacy BIOS or by UEFI firmware). Streams from before the
    /// split say `multiboot2` (a BIOS boot: GRUB images were BIOS-only).
    pub fn protocol_name(&self) -> &'static str {
        match self.protocol {
            Protocol::Pvh(_) => "pvh",
            Protocol::Multiboot2(_) => {
                let uefi = self
                    .mb2_tags()
                    .any(|t| matches!(t.kind, MB2_TAG_EFI32 | MB2_TAG_EFI64 | MB2_TAG_EFI_MMAP));
                if uefi {
                    "multiboot2-uefi"
                } else {
                    "multiboot2-bios"
                }
            }
        }
    }

    fn pvh(&self) -> Option<&'static PvhStartInfo> {
        match self.protocol {
            // SAFETY: validated in `new`.
            Protocol::Pvh(addr) => Some(unsafe { &*(addr as *const PvhStartInfo) }),
            Protocol::Multiboot2(_) => None,
        }
    }

    /// Multiboot2 tags, in order.
    fn mb2_tags(&self) -> impl Iterator<Item = &'static Mb2Tag> {
        let (mut at, end) = match self.protocol {
            Protocol::Multiboot2(addr) => {
                // SAFETY: validated in `new`; the first u32 is the total size.
                let total = unsafe { *(addr as *const u32) } as u64;
                (addr + 8, addr + total)
            }
            Protocol::Pvh(_) => (0, 0),
        };
        core::iter::from_fn(move || {
            if at + 8 > end {
                return None;
            }
            // SAFETY: inside the loader's info block; tags are 8-aligned.
            let tag = unsafe { &*(at as *const Mb2Tag) };
            if tag.kind == MB2_TAG_END || tag.size < 8 {
                return None;
            }
            at += (tag.size as u64).div_ceil(8) * 8;
            Some(tag)
        })
    }

    /// Physical range of the boot information itself (to keep it intact).
    pub fn own_range(&self) -> (u64, u64) {
        match self.protocol {
            Protocol::Pvh(addr) => (addr, addr + core::mem::size_of::<PvhStartInfo>() as u64),
            // SAFETY: validated in `new`.
            Protocol::Multiboot2(addr) => (addr, addr + unsafe { *(addr as *const u32) } as u64),
        }
    }

    pub fn memory_map(&self) -> impl Iterator<Item = MemoryRegion> {
        let pvh: &'static [PvhMemmapEntry] = match self.pvh() {
            // SAFETY: version >= 1 was checked; the table has this many entries.
            Some(s) => unsafe {
                slice::from_raw_parts(
                    s.memmap_paddr as *const PvhMemmapEntry,
                    s.memmap_entries as usize,
                )
            },
            None => &[],
        };
        let pvh = pvh.iter().map(|e| MemoryRegion {
            start: e.addr,
            len: e.size,
            usable: e.kind == MEMORY_AVAILABLE,
        });
        let mb2 = self
            .mb2_tags()
            .filter(|t| t.kind == MB2_TAG_MMAP)
            .flat_map(|tag| {
                let base = tag as *const Mb2Tag as u64;
                // SAFETY: an mmap tag is {type, size, entry_size, entry_version, entries…}.
                let entry_size = unsafe { *((base + 8) as *const u32) } as u64;
                let count = (tag.size as u64 - 16) / entry_size.max(1);
                (0..count).map(move |i| {
                    let e = base + 16 + i * entry_size;
                    // SAFETY: inside the tag; entries are {base u64, length u64, type u32, reserved u32}.
                    unsafe {
                        MemoryRegion {
                            start: *(e as *const u64),
                            len: *((e + 8) as *const u64),
                            usable: *((e + 16) as *const u32) == MEMORY_AVAILABLE,
                        }
                    }
                })
            });
        // Under UEFI the BIOS-style map may be missing; then the firmware's
        // own map describes the same RAM (never both: they overlap).
        let legacy_map = self.mb2_tags().any(|t| t.kind == MB2_TAG_MMAP);
        let efi = self
            .mb2_tags()
            .filter(move |t| t.kind == MB2_TAG_EFI_MMAP && !legacy_map)
            .flat_map(|tag| {
                let base = tag as *const Mb2Tag as u64;
                // SAFETY: an EFI mmap tag is {type, size, descriptor_size u32,
                // descriptor_version u32, descriptors…}.
                let entry_size = unsafe { *((base + 8) as *const u32) } as u64;
                // A descriptor is at least 40 bytes (type u32, pad u32,
                // physical_start u64, virtual_start u64, number_of_pages u64,
                // attribute u64); firmware may use larger strides.
                let count = if entry_size < 40 {
                    0
                } else {
                    (tag.size as u64).saturating_sub(16) / entry_size
                };
                (0..count).map(move |i| {
                    let e = base + 16 + i * entry_size;
                    // SAFETY: inside the tag, at the documented offsets;
                    // descriptors are 8-aligned (16 + k * stride, stride a
                    // multiple of 8 in every firmware; read unaligned anyway).
                    unsafe {
                        let kind = ((e) as *const u32).read_unaligned();
                        MemoryRegion {
                            start: ((e + 8) as *const u64).read_unaligned(),
                            len: ((e + 24) as *const u64)
                                .read_unaligned()
                                .saturating_mul(EFI_PAGE_BYTES),
                            usable: matches!(
                                kind,
                                EFI_CONVENTIONAL_MEMORY
                                    | EFI_BOOT_SERVICES_CODE
                                    | EFI_BOOT_SERVICES_DATA
                            ),
                        }
                    }
                })
            });
        pvh.chain(mb2).chain(coalesce(efi))
    }

    /// The kernel command line ("" when none was given).
    pub fn cmdline(&self) -> &'static str {
        let ptr = match self.pvh() {
            Some(s) => s.cmdline_paddr,
            None => self
                .mb2_tags()
                .find(|t| t.kind == MB2_TAG_CMDLINE)
                .map_or(0, |t| t as *const Mb2Tag as u64 + 8),
        };
        // SAFETY: the loader's NUL-terminated string, identity mapped.
        unsafe { c_str(ptr) }
    }

    pub fn modules(&self) -> impl Iterator<Item = Module> {
        let pvh: &'static [PvhModule] = match self.pvh() {
            // SAFETY: the loader's module list of `nr_modules` entries.
            Some(s) if s.nr_modules > 0 && s.modlist_paddr != 0 => unsafe {
                slice::from_raw_parts(s.modlist_paddr as *const PvhModule, s.nr_modules as usize)
            },
            _ => &[],
        };
        let pvh = pvh.iter().map(|m| Module {
            start: m.paddr,
            len: m.size,
        });
        let mb2 = self
            .mb2_tags()
            .filter(|t| t.kind == MB2_TAG_MODULE)
            .map(|tag| {
                let base = tag as *const Mb2Tag as u64;
                // SAFETY: a module tag is {type, size, mod_start u32, mod_end u32, string}.
                let (start, end) = unsafe {
                    (
                        *((base + 8) as *const u32) as u64,
                        *((base + 12) as *const u32) as u64,
                    )
                };
                Module {
                    start,
                    len: end.saturating_sub(start),
                }
            });
        pvh.chain(mb2)
    }
}

/// Merge runs of touching usable regions. UEFI firmware splits free RAM
/// into many descriptors (conventional memory beside boot-services code and
/// data; OVMF hands over about a hundred), while `crate::mm` keeps a fixed
/// number of free ranges before the heap exists: merged, none are dropped.
fn coalesce(regions: impl Iterator<Item = MemoryRegion>) -> impl Iterator<Item = MemoryRegion> {
    let mut regions = regions.peekable();
    core::iter::from_fn(move || {
        let mut region = regions.next()?;
        while let Some(next) = regions.peek() {
            if !(region.usable && next.usable && next.start == region.start + region.len) {
                break;
            }
            region.len += next.len;
            regions.next();
        }
        Some(region)
    })
}

/// # Safety
/// `ptr` is 0 or points at a NUL-terminated string that lives forever.
unsafe fn c_str(ptr: u64) -> &'static str {
    if ptr == 0 {
        return "";
    }
    let mut len = 0;
    // SAFETY: per the contract, bytes up to the NUL are readable.
    while unsafe { *((ptr + len) as *const u8) } != 0 && len < 4096 {
        len += 1;
    }
    // SAFETY: as above; non-UTF-8 command lines are treated as empty.
    core::str::from_utf8(unsafe { slice::from_raw_parts(ptr as *const u8, len as usize) })
        .unwrap_or("")
}

/// The boot information the run needs after memory setup, copied to the
/// heap so that page 0 (where loaders like to put it) can be unmapped.
pub struct BootData {
    pub protocol: &'static str,
    pub cmdline: alloc::string::String,
    pub modules: alloc::vec::Vec<Module>,
}

impl BootInfo {
    pub fn copy_out(&self) -> BootData {
        BootData {
            protocol: self.protocol_name(),
            cmdline: alloc::string::String::from(self.cmdline()),
            modules: self.modules().collect(),
        }
    }
}
