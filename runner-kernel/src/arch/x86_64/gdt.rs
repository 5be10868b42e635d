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

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::segmentation::SegmentSelector;
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
static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(GlobalDescriptorTable, Selectors)> = Once::new();

#[derive(Clone, Copy)]
struct Selectors {
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

/// Build and load the GDT and TSS, reload the segment registers.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        let stacks = &raw const IST_STACKS;
        for (slot, ist) in [IST_DOUBLE_FAULT, IST_NMI, IST_MACHINE_CHECK]
            .into_iter()
            .enumerate()
        {
            // SAFETY: only the address of the static stack is taken; the CPU
            // is the only writer, on exception entry.
            let bottom = unsafe { &raw const (*stacks)[slot] };
            tss.interrupt_stack_table[(ist - 1) as usize] =
                VirtAddr::from_ptr(bottom) + IST_STACK_BYTES as u64;
        }
        tss
    });
    let (gdt, selectors) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        (gdt, Selectors { code, data, tss })
    });
    gdt.load();
    // SAFETY: the selectors index the GDT just loaded, whose descriptors
    // are a flat 64-bit code segment, a data segment and the static TSS.
    unsafe {
        CS::set_reg(selectors.code);
        for set in [DS::set_reg, ES::set_reg, SS::set_reg] {
            set(selectors.data);
        }
        load_tss(selectors.tss);
    }
}

/// Selector of the 64-bit kernel code segment, for IDT gates.
pub fn kernel_code_selector() -> u16 {
    GDT.get().expect("gdt::init ran").1.code.0
}
