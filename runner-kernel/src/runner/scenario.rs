//! Deliberate failures for the boot tests (`test=` boot option): each must
//! end the run as a `fault` or `panic` record naming the function here.

use alloc::format;

use traplab_runner_core::TestScenario;

use crate::report;

/// Run the failure `test` asks for, if any.
#[inline(never)]
pub fn test_scenario(test: TestScenario) {
    match test {
        TestScenario::None => {}
        TestScenario::KernelFault => deliberate_kernel_fault(),
        TestScenario::CodeWrite => deliberate_code_write(),
        TestScenario::Panic => panic!("deliberate panic (test=panic)"),
    }
}

/// Reads the unmapped null page from kernel code: no fixup, no pager and no
/// wasm code claim it, so it must end as a `fault` record naming this
/// function.
#[inline(never)]
fn deliberate_kernel_fault() {
    // SAFETY: deliberately unsound — this access must fault.
    let value = unsafe { core::ptr::read_volatile(core::hint::black_box(0x10 as *const u64)) };
    report::log(format!("deliberate fault did not fault (read {value:#x})"));
}

/// Writes one byte of this very function, which `mm::protect_kernel` mapped
/// read-only: the write must fault (#PF, error code present + write) and
/// end as a `fault` record, rather than change the kernel's code.
#[inline(never)]
fn deliberate_code_write() {
    let code = deliberate_code_write as *const u8 as *mut u8;
    // SAFETY: deliberately unsound — this write must fault; if it did
    // not, it stores the byte that is already there.
    unsafe {
        let byte = core::ptr::read_volatile(code);
        core::ptr::write_volatile(core::hint::black_box(code), byte);
    }
    report::log(format!("the kernel's code is writable (wrote {code:p})"));
}
