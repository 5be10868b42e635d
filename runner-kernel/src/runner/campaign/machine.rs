//! The hardware actions a campaign's injectors take on the current
//! instance: revoke a page of its linear memory, patch its code, read and
//! write its memory, flip a register of the interrupted context.

use traplab_injectors::{Machine, Refused, Register};

use crate::arch::cpu;
use crate::arch::idt::TrapFrame;
use crate::mm;

/// The hardware actions, on the current instance and target.
pub(super) struct KernelMachine {
    pub(super) memory: (u64, u64),
    pub(super) text: (u64, u64),
    /// The interrupted context, while the timer handler runs.
    pub(super) frame: Option<*mut TrapFrame>,
    /// Page revoked by this trial and its flags, to reinstate.
    pub(super) revoked: Option<(u64, u64)>,
}

impl KernelMachine {
    fn linear(&self, offset: u64, len: usize) -> Result<*mut u8, Refused> {
        if offset
            .checked_add(len as u64)
            .is_none_or(|end| end > self.memory.1)
        {
            return Err(Refused("outside linear memory"));
        }
        Ok((self.memory.0 + offset) as *mut u8)
    }
}

impl Machine for KernelMachine {
    fn revoke_page(&mut self, offset: u64) -> Result<(), Refused> {
        let va = self.linear(offset, 1)? as u64;
        let flags = mm::revoke_page(va).ok_or(Refused("page not mapped or page tables busy"))?;
        self.revoked = Some((va, flags));
        Ok(())
    }
    fn restore_page(&mut self, _offset: u64) {
        if let Some((va, flags)) = self.revoked.take() {
            mm::reinstate_page(va, flags);
        }
    }
    fn patch_code(&mut self, offset: u64, bytes: &[u8], old: &mut [u8]) -> Result<(), Refused> {
        if offset + bytes.len() as u64 > self.text.1 {
            return Err(Refused("outside the text section"));
        }
        let at = (self.text.0 + offset) as *mut u8;
        // SAFETY: inside the module's text, which this trial owns; the
        // code pages are read-only, so the write goes through with CR0.WP
        // off (ring 0, interrupts off, one CPU).
        cpu::with_write_protect_off(|| unsafe {
            core::ptr::copy_nonoverlapping(at, old.as_mut_ptr(), bytes.len());
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len());
        });
        Ok(())
    }
    fn read_memory(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Refused> {
        let at = self.linear(offset, buf.len())?;
        // SAFETY: inside the instance's accessible linear memory.
        unsafe { core::ptr::copy_nonoverlapping(at, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
    fn write_memory(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Refused> {
        let at = self.linear(offset, bytes.len())?;
        // SAFETY: as above.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len()) };
        Ok(())
    }
    fn flip_register(&mut self, register: Register, bit: u8) -> Result<(), Refused> {
        let frame = self.frame.ok_or(Refused("no interrupted context"))?;
        // SAFETY: set by the timer handler to its live frame.
        let f = unsafe { &mut *frame };
        let slot = match register {
            Register::Rax => &mut f.rax,
            Register::Rbx => &mut f.rbx,
            Register::Rcx => &mut f.rcx,
            Register::Rdx => &mut f.rdx,
            Register::Rsi => &mut f.rsi,
            Register::Rdi => &mut f.rdi,
            Register::Rbp => &mut f.rbp,
            Register::Rsp => &mut f.rsp,
            Register::R8 => &mut f.r8,
            Register::R9 => &mut f.r9,
            Register::R10 => &mut f.r10,
            Register::R11 => &mut f.r11,
            Register::R12 => &mut f.r12,
            Register::R13 => &mut f.r13,
            Register::R14 => &mut f.r14,
            Register::R15 => &mut f.r15,
        };
        *slot ^= 1 << bit;
        Ok(())
    }
}
