//! The contract check: the probe object carries the `tracer-common` ABI version it was built
//! against (`TRACER_ABI_VERSION`), read here before anything is loaded. An object of another
//! version is refused: its records would be decoded as something else, or — the probes
//! comparing the configured version with their own — nothing would be recorded at all, and the
//! trace would look complete.

use object::{Object, ObjectSection, ObjectSymbol};
use tracer_common::ABI_VERSION;

/// Why the probe object cannot be used with this daemon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiError {
    #[error("the probe object is not an ELF file this daemon can read: {0}")]
    Unreadable(String),
    #[error("the probe object has no `TRACER_ABI_VERSION` (built from other sources?)")]
    Missing,
    #[error(
        "the probe object was built for ABI version {object}, this daemon speaks version {daemon}: rebuild both from the same sources"
    )]
    Mismatch { object: u32, daemon: u32 },
}

/// The ABI version an object was built against.
pub fn object_version(elf: &[u8]) -> Result<u32, AbiError> {
    let file = object::File::parse(elf).map_err(|e| AbiError::Unreadable(e.to_string()))?;
    let sym = file
        .symbols()
        .find(|s| s.name() == Ok("TRACER_ABI_VERSION"))
        .ok_or(AbiError::Missing)?;
    let section = sym
        .section_index()
        .and_then(|i| file.section_by_index(i).ok())
        .ok_or(AbiError::Missing)?;
    let data = section
        .data()
        .map_err(|e| AbiError::Unreadable(e.to_string()))?;
    // In a relocatable object a symbol's value is its offset in its section.
    let at = usize::try_from(sym.address()).map_err(|_| AbiError::Missing)?;
    let bytes: [u8; 4] = data
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or(AbiError::Missing)?;
    Ok(if file.is_little_endian() {
        u32::from_le_bytes(bytes)
    } else {
        u32::from_be_bytes(bytes)
    })
}

/// Refuses an object whose version is not this daemon's.
pub fn check(elf: &[u8]) -> Result<(), AbiError> {
    match object_version(elf)? {
        v if v == ABI_VERSION => Ok(()),
        object => Err(AbiError::Mismatch {
            object,
            daemon: ABI_VERSION,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_probes_carry_this_daemons_version() {
        assert_eq!(object_version(super::super::PROBES), Ok(ABI_VERSION));
        assert_eq!(check(super::super::PROBES), Ok(()));
    }

    #[test]
    fn an_object_of_another_version_is_refused() {
        let mut elf = super::super::PROBES.to_vec();
        let file = object::File::parse(&elf[..]).unwrap();
        let sym = file
            .symbols()
            .find(|s| s.name() == Ok("TRACER_ABI_VERSION"))
            .unwrap();
        let section = file.section_by_index(sym.section_index().unwrap()).unwrap();
        let at = section.file_range().unwrap().0 as usize + sym.address() as usize;
        drop(file);
        elf[at..at + 4].copy_from_slice(&(ABI_VERSION + 1).to_le_bytes());
        assert_eq!(
            check(&elf),
            Err(AbiError::Mismatch {
                object: ABI_VERSION + 1,
                daemon: ABI_VERSION
            })
        );
        assert!(matches!(
            check(b"not an object"),
            Err(AbiError::Unreadable(_))
        ));
    }
}
