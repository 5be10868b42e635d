//! Global descriptor table and task-state segment.
//!
//! Long mode ignores segmentation, but the CPU still needs a code selector
//! for the IDT gates and a TSS for the interrupt stack table. Three vectors
//! switch to their own IST stack because they can arrive when the current
//! stack is unusable: #DF (often *because* the stack overflowed), NMI and #MC
//! (asynchronous, may land anywhere). Wasm traps deliberately do **not** use
//! an IST stack: wasmtime abandons the exception frame and resumes on the
//! stack the wasm code was using, and a nested exception on a shared IST
//! stack would overwrite a live frame.

use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;

/// IST slots as written into IDT gates (1-based; 0 means "no IST").
pub const IST_DOUBLE_FAULT: u8 = 1;
pub const IST_NMI: u8 = 2;
pub const IST_MACHINE_CHECK: u8 = 3;

const IST_STACK_BYTES: usize = 64 << 10;

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_BYTES]);

static mut IST_STACKS: [Stack; 3] = [const { Stack([0; IST_STACK_BYTES]) }; 3];
static mut TSS: TaskStateSegment = TaskStateSegment::new();
static mut GDT: GlobalDescriptorTable = GlobalDescriptorTable::new();
static mut CODE_SELECTOR: u16 = 0;

/// Build and load the GDT and TSS, reload the segment registers.
pub fn init() {
    // SAFETY: runs once on the only core before any exception can use the
    // TSS; the statics are not referenced anywhere else until then.
    unsafe {
        let tss = &mut *(&raw mut TSS);
        let stacks = &raw mut IST_STACKS;
        for (slot, ist) in [IST_DOUBLE_FAULT, IST_NMI, IST_MACHINE_CHECK].into_iter().enumerate() {
            let top = VirtAddr::from_ptr(&raw const (*stacks)[slot]) + IST_STACK_BYTES as u64;
            tss.interrupt_stack_table[(ist - 1) as usize] = top;
        }
        let gdt = &mut *(&raw mut GDT);
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss_selector = gdt.append(Descriptor::tss_segment(&*(&raw const TSS)));
        gdt.load();
        CS::set_reg(code);
        for set in [DS::set_reg, ES::set_reg, SS::set_reg] {
            set(data);
        }
        load_tss(tss_selector);
        CODE_SELECTOR = code.0;
    }
}

/// Selector of the 64-bit kernel code segment, for IDT gates.
pub fn kernel_code_selector() -> u16 {
    // SAFETY: written once in `init`, read-only afterwards.
    unsafe { CODE_SELECTOR }
}

