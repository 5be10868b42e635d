//! Interrupt descriptor table: the 32 exception entry stubs and the
//! interrupt vectors 0x20–0xFF.
//!
//! Every exception vector 0x00–0x1F has its own naked entry stub
//! (`<exception>_handler`). A stub
//!
//! 1. takes the *stub* timestamp first (`lfence; rdtsc` into [`STUB_TSC`]) —
//!    the second stage stamp of a timed trap;
//! 2. pushes a zero error code when the CPU pushed none, then its vector, so
//!    every frame has one layout ([`TrapFrame`]);
//! 3. jumps to a common path that saves the general-purpose registers and
//!    calls [`exception_entry`], which hands an arch-neutral
//!    [`ExceptionContext`] to `crate::exceptions::dispatch`.
//!
//! If dispatch returns an action to resume with, the common path restores
//! the registers and `iretq`s (possibly to a new RIP); if it returns
//! `Action::Unhandled`, [`exception_entry`] hands the exception to the
//! unhandled path (`crate::fault`), which reports it and ends the run. For a wasm trap it does not return: wasmtime
//! resumes into its own entry trampoline and the frame is abandoned.
//!
//! The interrupt vectors have three stubs: the APIC timer
//! (`super::timer::TIMER_VECTOR`), the APIC spurious vector, and one for
//! every other vector, which nothing should raise (`super::lapic` masks
//! every other source) and which is counted and acknowledged. They build
//! the same [`TrapFrame`] through a twin of the common path that calls
//! [`interrupt_entry`] instead; they take no stamp, because [`STUB_TSC`]
//! belongs to the exception being timed, which an interrupt may follow.
//!
//! The table itself is written by hand rather than with
//! `x86_64::structures::idt` because that type hides the reserved vectors,
//! and a stray reserved vector must still produce a fault record.
//!
//! Kernel Rust code is compiled soft-float (`x86_64-unknown-none`), so
//! nothing here touches SSE state and the stubs need not save it.

use core::arch::naked_asm;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use super::gdt;
use crate::exceptions::{self, Action, Exception, ExceptionContext};

/// TSC value taken by the most recent exception stub, at its first
/// instructions.
pub static STUB_TSC: AtomicU64 = AtomicU64::new(0);

/// Register state saved by the entry path, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Pushed by the CPU.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// One entry stub. `$pad` is `"push 0"` for vectors without a CPU error
/// code (so every frame has the same layout) and `""` for the others.
macro_rules! stub {
    ($(#[$doc:meta])* $name:ident, $vector:expr, $pad:literal, $common:path) => {
        $(#[$doc])*
        #[unsafe(naked)]
        pub extern "C" fn $name() {
            naked_asm!(
                "push rax",
                "push rdx",
                "lfence",
                "rdtsc",
                "shl rdx, 32",
                "or rax, rdx",
                "mov qword ptr [rip + {stamp}], rax",
                "pop rdx",
                "pop rax",
                $pad,
                "push {vector}",
                "jmp {common}",
                stamp = sym STUB_TSC,
                vector = const $vector,
                common = sym $common,
            )
        }
    };
}

/// Stub for a vector for which the CPU pushes no error code.
macro_rules! stub_without_error_code {
    ($(#[$doc:meta])* $name:ident, $vector:expr, $common:path) => {
        stub!($(#[$doc])* $name, $vector, "push 0", $common);
    };
}

/// Stub for a vector for which the CPU pushes an error code.
macro_rules! stub_with_error_code {
    ($(#[$doc:meta])* $name:ident, $vector:expr, $common:path) => {
        stub!($(#[$doc])* $name, $vector, "", $common);
    };
}

/// The 32 exception entry stubs and [`STUBS`], their table, jumping to
/// `$common`: once for the plain common path, once (module [`isolated`])
/// for the isolated one.
macro_rules! exception_stubs {
    ($common:path) => {
        stub_without_error_code!(/// exception 0x00, #DE
            divide_error_handler, 0x00, $common);
        stub_without_error_code!(/// exception 0x01, #DB
            debug_handler, 0x01, $common);
        stub_without_error_code!(/// exception 0x02, NMI (IST)
            nmi_handler, 0x02, $common);
        stub_without_error_code!(/// exception 0x03, #BP
            breakpoint_handler, 0x03, $common);
        stub_without_error_code!(/// exception 0x04, #OF
            overflow_handler, 0x04, $common);
        stub_without_error_code!(/// exception 0x05, #BR
            bound_range_handler, 0x05, $common);
        stub_without_error_code!(/// exception 0x06, #UD
            invalid_opcode_handler, 0x06, $common);
        stub_without_error_code!(/// exception 0x07, #NM
            device_not_available_handler, 0x07, $common);
        stub_with_error_code!(/// exception 0x08, #DF (IST; error code is always 0)
            double_fault_handler, 0x08, $common);
        stub_without_error_code!(/// exception 0x09, coprocessor segment overrun (reserved since the 486)
            coprocessor_segment_overrun_handler, 0x09, $common);
        stub_with_error_code!(/// exception 0x0A, #TS
            invalid_tss_handler, 0x0A, $common);
        stub_with_error_code!(/// exception 0x0B, #NP
            segment_not_present_handler, 0x0B, $common);
        stub_with_error_code!(/// exception 0x0C, #SS
            stack_segment_handler, 0x0C, $common);
        stub_with_error_code!(/// exception 0x0D, #GP
            general_protection_handler, 0x0D, $common);
        stub_with_error_code!(/// exception 0x0E, #PF
            page_fault_handler, 0x0E, $common);
        stub_without_error_code!(/// exception 0x0F, reserved
            reserved_0f_handler, 0x0F, $common);
        stub_without_error_code!(/// exception 0x10, #MF
            x87_floating_point_handler, 0x10, $common);
        stub_with_error_code!(/// exception 0x11, #AC
            alignment_check_handler, 0x11, $common);
        stub_without_error_code!(/// exception 0x12, #MC (IST)
            machine_check_handler, 0x12, $common);
        stub_without_error_code!(/// exception 0x13, #XM
            simd_floating_point_handler, 0x13, $common);
        stub_without_error_code!(/// exception 0x14, #VE
            virtualization_handler, 0x14, $common);
        stub_with_error_code!(/// exception 0x15, #CP
            control_protection_handler, 0x15, $common);
        stub_without_error_code!(/// exception 0x16, reserved
            reserved_16_handler, 0x16, $common);
        stub_without_error_code!(/// exception 0x17, reserved
            reserved_17_handler, 0x17, $common);
        stub_without_error_code!(/// exception 0x18, reserved
            reserved_18_handler, 0x18, $common);
        stub_without_error_code!(/// exception 0x19, reserved
            reserved_19_handler, 0x19, $common);
        stub_without_error_code!(/// exception 0x1A, reserved
            reserved_1a_handler, 0x1A, $common);
        stub_without_error_code!(/// exception 0x1B, reserved
            reserved_1b_handler, 0x1B, $common);
        stub_without_error_code!(/// exception 0x1C, #HV
            hypervisor_injection_handler, 0x1C, $common);
        stub_with_error_code!(/// exception 0x1D, #VC
            vmm_communication_handler, 0x1D, $common);
        stub_with_error_code!(/// exception 0x1E, #SX
            security_handler, 0x1E, $common);
        stub_without_error_code!(/// exception 0x1F, reserved
            reserved_1f_handler, 0x1F, $common);

        /// The entry stubs in vector order.
        pub(super) const STUBS: [extern "C" fn(); 32] = [
            divide_error_handler,
            debug_handler,
            nmi_handler,
            breakpoint_handler,
            overflow_handler,
            bound_range_handler,
            invalid_opcode_handler,
            device_not_available_handler,
            double_fault_handler,
            coprocessor_segment_overrun_handler,
            invalid_tss_handler,
            segment_not_present_handler,
            stack_segment_handler,
            general_protection_handler,
            page_fault_handler,
            reserved_0f_handler,
            x87_floating_point_handler,
            alignment_check_handler,
            machine_check_handler,
            simd_floating_point_handler,
            virtualization_handler,
            control_protection_handler,
            reserved_16_handler,
            reserved_17_handler,
            reserved_18_handler,
            reserved_19_handler,
            reserved_1a_handler,
            reserved_1b_handler,
            hypervisor_injection_handler,
            vmm_communication_handler,
            security_handler,
            reserved_1f_handler,
        ];
    };
}

exception_stubs!(exception_common);

/// Twins of the exception stubs for trial isolation (`super::pks`): the
/// same stubs, but their common path opens the protection keys around
/// dispatch (wasmtime's trap handler takes a lock on the heap). Loaded by
/// [`use_isolated_stubs`] only when a campaign turns isolation on, so
/// without it the exception path runs exactly the instructions it did.
mod isolated {
    use super::STUB_TSC;
    use core::arch::naked_asm;

    exception_stubs!(super::exception_common_isolated);
}

/// A common path: save registers, call `$entry` with the [`TrapFrame`],
/// restore, `iretq`. The CPU aligned RSP to 16 before pushing its 5-word
/// frame; with the error code, the vector and 15 registers the frame is 22
/// words, so RSP is still 16-byte aligned at the `call`.
macro_rules! common_path {
    ($(#[$doc:meta])* $name:ident, $entry:path) => {
        $(#[$doc])*
        #[unsafe(naked)]
        extern "C" fn $name() {
            naked_asm!(
                "push rax",
                "push rbx",
                "push rcx",
                "push rdx",
                "push rsi",
                "push rdi",
                "push rbp",
                "push r8",
                "push r9",
                "push r10",
                "push r11",
                "push r12",
                "push r13",
                "push r14",
                "push r15",
                "cld",
                "mov rdi, rsp",
                "call {entry}",
                "pop r15",
                "pop r14",
                "pop r13",
                "pop r12",
                "pop r11",
                "pop r10",
                "pop r9",
                "pop r8",
                "pop rbp",
                "pop rdi",
                "pop rsi",
                "pop rdx",
                "pop rcx",
                "pop rbx",
                "pop rax",
                "add rsp, 16",
                "iretq",
                entry = sym $entry,
            )
        }
    };
}

common_path!(/// Common path of the exception stubs.
    exception_common, exception_entry);
common_path!(/// Common path of the interrupt stubs.
    interrupt_common, interrupt_entry);
common_path!(/// Common path of the isolated exception stubs ([`isolated`]).
    exception_common_isolated, exception_entry_isolated);

/// [`exception_entry`] with the protection keys open while the exception
/// is handled (`super::pks::writable`), put back on `iretq` so code
/// resumed in place stays isolated.
extern "C" fn exception_entry_isolated(frame: &mut TrapFrame) {
    super::pks::writable(|| exception_entry(frame))
}

/// Rust side of the entry path: read CR2, build the arch-neutral context,
/// dispatch, and apply the decision to the saved frame (or, for a kernel
/// fault, report it and end the run).
extern "C" fn exception_entry(frame: &mut TrapFrame) {
    let vector = frame.vector as u8;
    let exception = Exception::from_vector(vector);
    let ctx = ExceptionContext {
        instruction_pointer: frame.rip,
        stack_pointer: frame.rsp,
        frame_pointer: frame.rbp,
        exception,
        vector,
        error_code: exception.has_error_code().then_some(frame.error_code),
        faulting_address: (exception == Exception::PageFault).then(super::cpu::read_cr2),
    };
    // `ResumeAt` tested first, not a `match`: a `match` tests `Retry`
    // first, adding two instructions to every resumed exception (the raw
    // floor's, the JIT's); this way the resume path is the one the
    // baselines measured, and only `Retry` pays for the third outcome.
    // During an isolated call (`super::pks`) the handlers run with the
    // protection keys open: wasmtime's trap handler takes its code
    // registry's lock, which lives on the heap. Put back on `iretq`, so
    // code resumed in place stays isolated. Without PKS: a load and a
    // branch.
    let action = exceptions::dispatch(&ctx);
    if let Action::ResumeAt(rip) = action {
        frame.rip = rip;
    } else if action == Action::Unhandled {
        crate::fault::unexpected_exception(&ctx)
    }
}

/// Vector number the catch-all interrupt stub pushes: it serves every
/// unprogrammed vector, so it cannot know which one arrived.
const UNKNOWN_VECTOR: u64 = 0x100;

/// Stub of one interrupt vector: a zero error code (the CPU pushes none for
/// interrupts) and `$vector`, then the interrupt common path.
macro_rules! interrupt_stub {
    ($(#[$doc:meta])* $name:ident, $vector:expr) => {
        $(#[$doc])*
        #[unsafe(naked)]
        extern "C" fn $name() {
            naked_asm!(
                "push 0",
                "push {vector}",
                "jmp {common}",
                vector = const $vector,
                common = sym interrupt_common,
            )
        }
    };
}

interrupt_stub!(/// the local APIC timer
    timer_interrupt_stub, super::timer::TIMER_VECTOR as u64);
interrupt_stub!(/// the local APIC's spurious vector
    spurious_interrupt_stub, super::timer::SPURIOUS_VECTOR as u64);
interrupt_stub!(/// every other vector from 0x20 up
    unexpected_interrupt_stub, UNKNOWN_VECTOR);

/// Rust side of the interrupt path: route by vector. IF is cleared here
/// (interrupt gates), so interrupts do not nest.
extern "C" fn interrupt_entry(frame: &mut TrapFrame) {
    const TIMER: u64 = super::timer::TIMER_VECTOR as u64;
    const SPURIOUS: u64 = super::timer::SPURIOUS_VECTOR as u64;
    // An interrupt during an isolated call (a campaign's timer: trigger
    // and watchdog) runs kernel code whose state is on the kernel stack
    // and heap: open the protection keys for it (`super::pks`).
    super::pks::writable(|| match frame.vector {
        TIMER => super::timer::interrupt(frame),
        // An interrupt withdrawn before delivery: the APIC set no
        // in-service bit, so there is nothing to acknowledge.
        SPURIOUS => {}
        _ => super::lapic::unexpected_interrupt(),
    })
}

/// One 16-byte gate descriptor.
#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

/// Present, DPL 0, 64-bit interrupt gate: the CPU clears IF on entry, so no
/// interrupt lands between the exception and the handler's decision. A wasm
/// trap leaves through wasmtime's trampoline without `iretq`, so whoever
/// called into wasm restores IF afterwards (see `crate::runner`).
const INTERRUPT_GATE: u8 = 0x8E;

/// Every vector has a gate, so no interrupt can find an empty one (which
/// would raise #GP with the IDT index as error code, hiding the cause).
const VECTORS: usize = 256;

static IDT: Once<[Gate; VECTORS]> = Once::new();

/// Fill and load the IDT. Must run after [`gdt::init`] (it uses the code
/// selector and the IST indices).
pub fn init() {
    let idt = IDT.call_once(|| table(&STUBS));
    load(idt);
}

/// Load the IDT whose exception vectors enter through the isolated stubs
/// ([`isolated`]). Once PKS is on (`super::pks::enable`), before the
/// first isolated call; for the rest of the run.
pub fn use_isolated_stubs() {
    static ISOLATED_IDT: Once<[Gate; VECTORS]> = Once::new();
    load(ISOLATED_IDT.call_once(|| table(&isolated::STUBS)));
}

/// A full table: `stubs` for the exceptions, the interrupt stubs above.
fn table(stubs: &[extern "C" fn(); 32]) -> [Gate; VECTORS] {
    let cs = gdt::kernel_code_selector();
    core::array::from_fn(|vector| {
        let stub: extern "C" fn() = match vector {
            0x00..0x20 => stubs[vector],
            v if v == super::timer::TIMER_VECTOR as usize => timer_interrupt_stub,
            v if v == super::timer::SPURIOUS_VECTOR as usize => spurious_interrupt_stub,
            _ => unexpected_interrupt_stub,
        };
        let addr = stub as *const () as u64;
        let ist = match vector {
            0x02 => gdt::IST_NMI,
            0x08 => gdt::IST_DOUBLE_FAULT,
            0x12 => gdt::IST_MACHINE_CHECK,
            _ => 0,
        };
        Gate {
            offset_low: addr as u16,
            selector: cs,
            ist,
            type_attr: INTERRUPT_GATE,
            offset_mid: (addr >> 16) as u16,
            offset_high: (addr >> 32) as u32,
            reserved: 0,
        }
    })
}

fn load(idt: &'static [Gate; VECTORS]) {
    let pointer = x86_64::structures::DescriptorTablePointer {
        limit: (core::mem::size_of::<[Gate; VECTORS]>() - 1) as u16,
        base: x86_64::VirtAddr::from_ptr(idt),
    };
    // SAFETY: the table is static, fully initialised and its gates point at
    // the stubs above.
    unsafe { x86_64::instructions::tables::lidt(&pointer) };
}

/// Read [`STUB_TSC`].
pub fn last_stub_tsc() -> u64 {
    STUB_TSC.load(Ordering::Relaxed)
}
