//! The Linux floor: signals raised by the peer's own code in ring 3 and
//! resumed by moving RIP in the handler (see `signals`), beside the lab
//! kernel's ring-0 floor — plus a trivial system call and a demand-paging
//! fault, which raise no signal, as references for what entering the Linux
//! kernel costs at all.
//!
//! Each raising sequence loads its resume address (the local label after
//! the faulting instruction) into `r11` first; the handler resumes there.

use core::arch::asm;

use traplab_runner_core::floor::FloorExperiment;
use traplab_wire::{TrapSignature, signal};

/// An address in page 0, below `vm.mmap_min_addr`: never mapped.
const NULL_PAGE_ADDRESS: usize = 0x8;

fn nothing() {}

fn raise_page_fault() {
    // SAFETY: the load faults (SIGSEGV) and the handler resumes at label 2;
    // only the scratch registers change.
    unsafe {
        asm!("lea r11, [rip + 2f]", "mov {tmp}, qword ptr [{addr}]", "2:",
            addr = in(reg) NULL_PAGE_ADDRESS, tmp = out(reg) _, out("r11") _,
            options(nostack, readonly));
    }
}

fn raise_invalid_opcode() {
    // SAFETY: ud2 raises SIGILL; the handler resumes at label 2.
    unsafe { asm!("lea r11, [rip + 2f]", "ud2", "2:", out("r11") _, options(nostack, nomem)) }
}

fn raise_divide_error() {
    // SAFETY: div by zero raises SIGFPE before writing rax/rdx; the handler
    // resumes at label 2.
    unsafe {
        asm!("lea r11, [rip + 2f]", "xor edx, edx", "mov eax, 1", "div ecx", "2:",
            in("ecx") 0u32, out("eax") _, out("edx") _, out("r11") _,
            options(nostack, nomem));
    }
}

fn raise_general_protection() {
    // SAFETY: hlt is privileged: #GP in ring 3, delivered as SIGSEGV
    // (si_code SI_KERNEL); the handler resumes at label 2.
    unsafe { asm!("lea r11, [rip + 2f]", "hlt", "2:", out("r11") _, options(nostack, nomem)) }
}

fn raise_breakpoint() {
    // SAFETY: int3 raises SIGTRAP with RIP already after it (label 2).
    unsafe { asm!("lea r11, [rip + 2f]", "int3", "2:", out("r11") _, options(nostack, nomem)) }
}

fn getppid_syscall() {
    // SAFETY: getppid has no arguments and no effects; `syscall` clobbers
    // rcx and r11.
    unsafe {
        asm!("syscall", inout("rax") libc::SYS_getppid => _, out("rcx") _, out("r11") _,
            options(nostack));
    }
}

/// The page `raw.pf_demand` touches: released before each sample, so the
/// write is a fresh demand fault (Linux maps a zeroed page, like the lab
/// kernel's pager).
static DEMAND_PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

fn demand_page() -> usize {
    *DEMAND_PAGE.get_or_init(|| {
        // SAFETY: a fresh anonymous private mapping of one page.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(p != libc::MAP_FAILED, "mmap of the demand page failed");
        p as usize
    })
}

fn evict_demand_page() {
    // SAFETY: the page is ours; MADV_DONTNEED drops it, the next touch
    // faults in a zeroed page.
    unsafe { libc::madvise(demand_page() as *mut _, 4096, libc::MADV_DONTNEED) };
}

fn touch_demand_page() {
    // SAFETY: the page is mapped read-write (its contents were dropped).
    unsafe { core::ptr::write_volatile(demand_page() as *mut u64, 1) };
}

fn expect(sig: u8) -> Option<TrapSignature> {
    Some(TrapSignature {
        trap: None,
        vector: None,
        signal: Some(sig),
        si_code: None,
    })
}

/// The floor experiments, in the order they run.
pub fn experiments() -> [FloorExperiment; 7] {
    [
        FloorExperiment {
            name: "raw.pf",
            expected: expect(signal::SIGSEGV),
            prepare: nothing,
            raise: raise_page_fault,
        },
        FloorExperiment {
            name: "raw.ud",
            expected: expect(signal::SIGILL),
            prepare: nothing,
            raise: raise_invalid_opcode,
        },
        FloorExperiment {
            name: "raw.de",
            expected: expect(signal::SIGFPE),
            prepare: nothing,
            raise: raise_divide_error,
        },
        FloorExperiment {
            name: "raw.gp",
            expected: expect(signal::SIGSEGV),
            prepare: nothing,
            raise: raise_general_protection,
        },
        FloorExperiment {
            name: "raw.bp",
            expected: expect(signal::SIGTRAP),
            prepare: nothing,
            raise: raise_breakpoint,
        },
        FloorExperiment {
            name: "raw.pf_demand",
            expected: None,
            prepare: evict_demand_page,
            raise: touch_demand_page,
        },
        FloorExperiment {
            name: "raw.syscall",
            expected: None,
            prepare: nothing,
            raise: getppid_syscall,
        },
    ]
}
