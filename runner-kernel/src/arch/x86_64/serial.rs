//! COM1, the only output channel: the 16550 driver is the `uart_16550`
//! crate; this module owns the port choice, the baud rate and the locking.
//!
//! Writers hold the lock with interrupts masked (blog_os's rule), so an
//! interrupt handler can never deadlock on a half-written line. The fault
//! and panic paths use [`emergency_write`], which does not wait for the lock:
//! a fault may have struck while the lock was held.

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{BaudRate, Config, Uart16550};

/// COM1 I/O base.
const COM1: u16 = 0x3F8;
/// Line rate of the console: 115200 baud, 8N1. Real hardware capture must
/// use the same rate (scripts/capture-serial.sh).
const BAUD: BaudRate = BaudRate::Baud115200;

static PORT: Mutex<Option<Uart16550<PioBackend>>> = Mutex::new(None);

fn open() -> Uart16550<PioBackend> {
    // SAFETY: 0x3F8..0x3FF is COM1 on every PC-compatible machine and only
    // this module touches it.
    let mut uart = unsafe { Uart16550::new_port(COM1) }.expect("COM1 base is a valid port range");
    // A missing UART (some boards) makes init fail; output is then lost but
    // the run goes on (the exit code still tells the outcome).
    let _ = uart.init(Config {
        baud_rate: BAUD,
        ..Config::default()
    });
    uart
}

pub fn init() {
    *PORT.lock() = Some(open());
}

/// Write `bytes` to COM1, blocking until the FIFO took all of them.
pub fn write(bytes: &[u8]) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        if let Some(uart) = PORT.lock().as_mut() {
            uart.send_bytes_exact(bytes);
        }
    });
}

/// Write without taking the lock: for the fault and panic paths only, where
/// the lock may be held by the code that faulted. Output may interleave
/// with a half-written line, which the host detects by its CRC.
pub fn emergency_write(bytes: &[u8]) {
    if let Some(mut guard) = PORT.try_lock()
        && let Some(uart) = guard.as_mut()
    {
        uart.send_bytes_exact(bytes);
        return;
    }
    open().send_bytes_exact(bytes);
}
