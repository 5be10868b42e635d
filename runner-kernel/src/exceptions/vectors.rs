//! The exceptions of vectors 0x00–0x1F as a type: [`Exception`] from and to
//! its vector, whether the CPU pushes an error code, and its Theseus
//! [`Category`] (the table in `crate::exceptions`). Names only, no state:
//! usable from the first instruction of `arch::init`. Mnemonics are the
//! wire crate's (`traplab_wire::vector`), shared with the analyzer.

/// The exceptions of vectors 0x00–0x1F.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exception {
    DivideError,
    Debug,
    NonMaskableInterrupt,
    Breakpoint,
    Overflow,
    BoundRangeExceeded,
    InvalidOpcode,
    DeviceNotAvailable,
    DoubleFault,
    CoprocessorSegmentOverrun,
    InvalidTss,
    SegmentNotPresent,
    StackSegmentFault,
    GeneralProtection,
    PageFault,
    X87FloatingPoint,
    AlignmentCheck,
    MachineCheck,
    SimdFloatingPoint,
    Virtualization,
    ControlProtection,
    HypervisorInjection,
    VmmCommunication,
    Security,
    /// 0x0F, 0x16–0x1B, 0x1F.
    Reserved(u8),
}

impl Exception {
    pub fn from_vector(vector: u8) -> Exception {
        use Exception::*;
        match vector {
            0x00 => DivideError,
            0x01 => Debug,
            0x02 => NonMaskableInterrupt,
            0x03 => Breakpoint,
            0x04 => Overflow,
            0x05 => BoundRangeExceeded,
            0x06 => InvalidOpcode,
            0x07 => DeviceNotAvailable,
            0x08 => DoubleFault,
            0x09 => CoprocessorSegmentOverrun,
            0x0A => InvalidTss,
            0x0B => SegmentNotPresent,
            0x0C => StackSegmentFault,
            0x0D => GeneralProtection,
            0x0E => PageFault,
            0x10 => X87FloatingPoint,
            0x11 => AlignmentCheck,
            0x12 => MachineCheck,
            0x13 => SimdFloatingPoint,
            0x14 => Virtualization,
            0x15 => ControlProtection,
            0x1C => HypervisorInjection,
            0x1D => VmmCommunication,
            0x1E => Security,
            other => Reserved(other),
        }
    }

    pub fn vector(self) -> u8 {
        use Exception::*;
        match self {
            DivideError => 0x00,
            Debug => 0x01,
            NonMaskableInterrupt => 0x02,
            Breakpoint => 0x03,
            Overflow => 0x04,
            BoundRangeExceeded => 0x05,
            InvalidOpcode => 0x06,
            DeviceNotAvailable => 0x07,
            DoubleFault => 0x08,
            CoprocessorSegmentOverrun => 0x09,
            InvalidTss => 0x0A,
            SegmentNotPresent => 0x0B,
            StackSegmentFault => 0x0C,
            GeneralProtection => 0x0D,
            PageFault => 0x0E,
            X87FloatingPoint => 0x10,
            AlignmentCheck => 0x11,
            MachineCheck => 0x12,
            SimdFloatingPoint => 0x13,
            Virtualization => 0x14,
            ControlProtection => 0x15,
            HypervisorInjection => 0x1C,
            VmmCommunication => 0x1D,
            Security => 0x1E,
            Reserved(v) => v,
        }
    }

    /// Intel's mnemonic, e.g. `#PF` (the wire crate's table).
    pub fn mnemonic(self) -> &'static str {
        traplab_wire::vector::mnemonic(self.vector())
    }

    /// Whether the CPU pushes an error code for this vector.
    pub fn has_error_code(self) -> bool {
        use Exception::*;
        matches!(
            self,
            DoubleFault
                | InvalidTss
                | SegmentNotPresent
                | StackSegmentFault
                | GeneralProtection
                | PageFault
                | AlignmentCheck
                | ControlProtection
                | VmmCommunication
                | Security
        )
    }

    /// Theseus category, if the exception has one.
    pub fn category(self) -> Option<Category> {
        use Exception::*;
        match self {
            BoundRangeExceeded | StackSegmentFault | PageFault => Some(Category::InvalidAddress),
            InvalidOpcode | DeviceNotAvailable | DoubleFault | InvalidTss | GeneralProtection => {
                Some(Category::IllegalInstruction)
            }
            SegmentNotPresent | AlignmentCheck => Some(Category::BusError),
            DivideError | Overflow | X87FloatingPoint | SimdFloatingPoint => {
                Some(Category::Arithmetic)
            }
            _ => None,
        }
    }
}

/// Handler categories, as in Theseus (and POSIX signals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    InvalidAddress,
    IllegalInstruction,
    BusError,
    Arithmetic,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::InvalidAddress,
        Category::IllegalInstruction,
        Category::BusError,
        Category::Arithmetic,
    ];

    /// Its slot in the handler table (`super::handlers`).
    pub(super) fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Category::InvalidAddress => "invalid_address",
            Category::IllegalInstruction => "illegal_instruction",
            Category::BusError => "bus_error",
            Category::Arithmetic => "arithmetic",
        }
    }
}
