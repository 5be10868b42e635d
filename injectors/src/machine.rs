//! The boundary to the hardware: what the kernel tells the injectors about
//! a target, and the actions it performs for them.

use serde::{Deserialize, Serialize};

/// What a clean run of a target looks like, measured by the kernel before
/// the campaign (offsets, so they hold for every fresh instance).
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetFacts<'a> {
    /// Linear-memory offsets of the 4 KiB pages a clean call touches (the
    /// kernel reads the page tables' accessed bits).
    pub touched_pages: &'a [u64],
    /// Text-section offsets of instruction starts (wasmtime's address map)
    /// inside the functions a call of the target can run.
    pub code_sites: &'a [u64],
    /// The target's `u32` divisor table: linear offset and entry count.
    pub divisors: Option<(u64, u32)>,
    /// Registers a `bit_flip_register` injection may choose from.
    pub registers: &'a [Register],
}

/// The hardware actions. Offsets are relative to the current instance's
/// linear memory or its module's text section; the kernel resolves them.
pub trait Machine {
    /// Unmap the linear-memory page at `offset` (page aligned).
    fn revoke_page(&mut self, offset: u64) -> Result<(), Refused>;
    /// Map it back (with its contents) if it was revoked.
    fn restore_page(&mut self, offset: u64);
    /// Write `bytes` at text offset `offset`, returning the bytes that were
    /// there in `old` (same length).
    fn patch_code(&mut self, offset: u64, bytes: &[u8], old: &mut [u8]) -> Result<(), Refused>;
    /// Read or write linear memory (the instance's current one).
    fn read_memory(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Refused>;
    fn write_memory(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Refused>;
    /// Flip `bit` of `register` in the interrupted context. Refused outside
    /// an interrupt.
    fn flip_register(&mut self, register: Register, bit: u8) -> Result<(), Refused>;
}

/// Why the machine would not do it (the injection is then recorded as not
/// fired, with this reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// x86-64 general-purpose registers.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Register {
    Rax,
    Rbx,
    Rcx,
    Rdx,
    Rsi,
    Rdi,
    Rbp,
    Rsp,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
}

impl Register {
    /// The default for `bit_flip_register`: every register but `rsp` and
    /// `rbp`. A flipped stack or frame pointer sends the next `ret` to an
    /// arbitrary address of a single address space where kernel and wasm
    /// code live together; no containment can promise to catch that.
    /// Campaigns that want to measure it list them explicitly.
    pub const DEFAULT_FLIP: [Register; 14] = [
        Register::Rax,
        Register::Rbx,
        Register::Rcx,
        Register::Rdx,
        Register::Rsi,
        Register::Rdi,
        Register::R8,
        Register::R9,
        Register::R10,
        Register::R11,
        Register::R12,
        Register::R13,
        Register::R14,
        Register::R15,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Register::Rax => "rax",
            Register::Rbx => "rbx",
            Register::Rcx => "rcx",
            Register::Rdx => "rdx",
            Register::Rsi => "rsi",
            Register::Rdi => "rdi",
            Register::Rbp => "rbp",
            Register::Rsp => "rsp",
            Register::R8 => "r8",
            Register::R9 => "r9",
            Register::R10 => "r10",
            Register::R11 => "r11",
            Register::R12 => "r12",
            Register::R13 => "r13",
            Register::R14 => "r14",
            Register::R15 => "r15",
        }
    }
}
