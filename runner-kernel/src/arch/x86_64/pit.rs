//! TSC calibration against the 8254 PIT, for machines (and hypervisors) that
//! do not report the TSC frequency in CPUID.
//!
//! Channel 2 counts down once in mode 0 while the TSC is sampled; its gate
//! and output are on port 0x61, so no interrupt is involved.

use x86_64::instructions::port::Port;

/// The PIT input clock: 1.193182 MHz (a third of the NTSC colour-burst
/// frequency, for historical reasons).
const PIT_HZ: u64 = 1_193_182;
/// Ticks per measurement: about 10 ms.
const TICKS: u16 = 11_932;
const ROUNDS: usize = 5;

/// Measure the TSC frequency in Hz: the median of [`ROUNDS`] 10 ms windows.
pub fn measure_tsc_hz() -> u64 {
    let mut rates = [0u64; ROUNDS];
    for rate in rates.iter_mut() {
        *rate = one_window();
    }
    rates.sort_unstable();
    rates[ROUNDS / 2]
}

fn one_window() -> u64 {
    let mut gate = Port::<u8>::new(0x61);
    let mut command = Port::<u8>::new(0x43);
    let mut channel2 = Port::<u8>::new(0x42);
    // SAFETY: ports 0x42/0x43/0x61 are the PIT channel 2 and its gate on
    // every PC-compatible machine; only this function uses them.
    unsafe {
        // Gate low, speaker off, while programming.
        let base = gate.read() & !0x03;
        gate.write(base);
        // Channel 2, low then high byte, mode 0 (interrupt on terminal count).
        command.write(0b1011_0000);
        channel2.write(TICKS as u8);
        channel2.write((TICKS >> 8) as u8);
        // Raising the gate starts the count.
        gate.write(base | 0x01);
        let start = super::cpu::stamp();
        // OUT2 (bit 5) rises at terminal count.
        while gate.read() & 0x20 == 0 {}
        let end = super::cpu::stamp();
        gate.write(base);
        (end - start) * PIT_HZ / TICKS as u64
    }
}
