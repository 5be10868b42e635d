//! Ending the run: QEMU's `isa-debug-exit` device, then halt.
//!
//! QEMU is started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`;
//! writing `v` there makes QEMU exit with status `(v << 1) | 1`. On bare
//! metal the port is unused and the kernel halts instead.

use x86_64::instructions::port::Port;

const DEBUG_EXIT_PORT: u16 = 0xF4;

pub fn exit(value: u32) -> ! {
    // SAFETY: writing to an unused ISA port has no effect on real hardware;
    // under QEMU it is the exit device.
    unsafe { Port::<u32>::new(DEBUG_EXIT_PORT).write(value) };
    super::cpu::halt_forever()
}
