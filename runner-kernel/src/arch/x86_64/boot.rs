//! Entry from the boot loader: PVH note, multiboot2 header, and the 32-bit
//! stub that enters long mode.
//!
//! Both QEMU's `-kernel` PVH path and GRUB's multiboot2 path enter in 32-bit
//! protected mode with paging off, so one stub serves both:
//!
//! 1. record which protocol entered (PVH: `pvh_start`, info in EBX;
//!    multiboot2: `multiboot2_start`, magic in EAX, info in EBX);
//! 2. build boot page tables that identity-map the first 4 GiB with 2 MiB
//!    pages (the null page and the stack guard are unmapped later, by
//!    `crate::mm::protect_kernel`);
//! 3. enable PAE, long mode, no-execute and write protection, load a minimal
//!    64-bit GDT and jump to 64-bit code, which calls
//!    [`crate::kernel_entry`] on the boot stack.
//!
//! The 4 GiB identity map is what lets the rest of the kernel treat physical
//! addresses below 4 GiB as pointers (see `crate::mm`). Written by hand
//! because it is the part of the project that no crate can own: the layout
//! of this kernel's first instructions.

use core::arch::global_asm;

/// Bytes of the boot stack, which is the kernel stack for the whole run.
/// Wasm code runs on it too: wasmtime allows up to
/// `traplab_suite::engine::MAX_WASM_STACK` of wasm frames below the embedder's
/// frames, and exception handlers for wasm traps run on it as well.
pub const BOOT_STACK_BYTES: usize = 4 << 20;

/// Which loader entered the kernel (first argument of `kernel_entry`).
pub const BOOT_PVH: u32 = 1;
pub const BOOT_MULTIBOOT2: u32 = 2;

global_asm!(
    r#"
    .set MB2_MAGIC, 0xe85250d6
    .set MB2_ARCH_I386, 0
    .set XEN_ELFNOTE_PHYS32_ENTRY, 18

    /* Multiboot2 header: magic, architecture, length, checksum, end tag. */
    .section .multiboot2, "a"
    .balign 8
mb2_header_start:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header_start
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:

    /* PVH entry note: QEMU -kernel jumps to pvh_start in 32-bit mode. */
    .section .note.Xen, "a"
    .balign 4
    .long 4
    .long 8
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad pvh_start
    .balign 4

    .section .boot.text, "ax"
    .code32
    .global pvh_start
pvh_start:
    movl ${boot_pvh}, %edi
    movl %ebx, %esi
    xorl %edx, %edx
    jmp start32

    .global multiboot2_start
multiboot2_start:
    movl ${boot_mb2}, %edi
    movl %ebx, %esi
    movl %eax, %edx

start32:
    cli
    cld
    movl $boot_stack_top, %esp

    /* Clear the boot page tables (6 pages). */
    movl $boot_pml4, %ebx
    movl $(6 * 4096 / 4), %ecx
1:  movl $0, (%ebx)
    addl $4, %ebx
    loop 1b

    /* PML4[0] -> PDPT, PDPT[0..4] -> PD0..PD3 (present | writable). */
    movl $boot_pdpt, %eax
    orl $0x3, %eax
    movl %eax, boot_pml4
    movl $boot_pd, %eax
    orl $0x3, %eax
    movl $boot_pdpt, %ebx
    movl $4, %ecx
2:  movl %eax, (%ebx)
    addl $4096, %eax
    addl $8, %ebx
    loop 2b

    /* PD entries 0..2048: 2 MiB pages (present | writable | huge). The
       null page and the stack guard page are unmapped later, once the boot
       information (which may lie in page 0) has been copied
       (crate::mm::protect_kernel). */
    movl $boot_pd, %ebx
    movl $0x83, %eax
    xorl %ecx, %ecx
3:  movl %eax, (%ebx, %ecx, 8)
    addl $(2 << 20), %eax
    incl %ecx
    cmpl $2048, %ecx
    jne 3b

    /* CR4.PAE */
    movl %cr4, %eax
    orl $(1 << 5), %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3

    /* EFER.LME | EFER.NXE. EDX holds the multiboot2 magic; keep it. */
    movl %edx, %ebp
    movl $0xC0000080, %ecx
    rdmsr
    orl $((1 << 8) | (1 << 11)), %eax
    wrmsr
    movl %ebp, %edx

    /* CR0.PG | CR0.WP | CR0.PE */
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16) | 1), %eax
    movl %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $start64

    .code64
start64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    /* Upper halves are undefined after the mode switch: zero-extend. */
    movl %edi, %edi
    movl %esi, %esi
    movl %edx, %edx
    call {entry}
5:  hlt
    jmp 5b

    .section .rodata
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF   /* 0x08: 64-bit code, ring 0 */
    .quad 0x00CF92000000FFFF   /* 0x10: data, ring 0 */
boot_gdt_end:
boot_gdt_pointer:
    .short boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss
    .balign 4096
    .global boot_pml4
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4 * 4096
    /* Unmapped at run time: a kernel stack overflow faults here instead of
       overwriting whatever lies below the stack. */
    .global boot_stack_guard
boot_stack_guard:
    .skip 4096
    .global boot_stack_bottom
boot_stack_bottom:
    .skip {stack_bytes}
    .global boot_stack_top
boot_stack_top:
    .previous
"#,
    boot_pvh = const BOOT_PVH,
    boot_mb2 = const BOOT_MULTIBOOT2,
    stack_bytes = const BOOT_STACK_BYTES,
    entry = sym crate::kernel_entry,
    options(att_syntax)
);

unsafe extern "C" {
    static boot_stack_guard: u8;
    static boot_pml4: u8;
    static boot_stack_top: u8;
}

/// `[start, end)` of the boot page tables, the kernel stack's guard page
/// and the kernel stack (contiguous in `.bss`, page aligned): what trial
/// isolation tags besides the heap and the frame pool.
pub fn stack_and_boot_tables() -> (u64, u64) {
    // Only the addresses of the assembly's symbols are used.
    (
        &raw const boot_pml4 as u64,
        &raw const boot_stack_top as u64,
    )
}

/// Address of the 4 KiB guard page right below the kernel stack.
pub fn stack_guard_page() -> u64 {
    &raw const boot_stack_guard as u64
}
