//! Architecture support. Only x86-64 exists; the indirection keeps the rest
//! of the kernel free of hardware details (one boundary, as in Hermit).

mod x86_64;
pub use self::x86_64::*;
