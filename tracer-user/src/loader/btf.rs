//! A minimal reader of kernel BTF: enough to find the byte offset of a (possibly nested) struct
//! member, which is all the probes need because Rust eBPF has no CO-RE relocations.

use std::collections::HashMap;

/// Errors reading BTF.
#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    #[error("reading {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("not a BTF blob (bad magic {0:#x})")]
    Magic(u16),
    #[error("BTF blob is truncated at byte {0}")]
    Truncated(usize),
    #[error(
        "kernel BTF has no struct `{strukt}` among the {read} types before type {at}, of kind {kind}, which this reader does not know (a newer kernel?)"
    )]
    AfterUnknownKind {
        strukt: String,
        kind: u32,
        at: u32,
        read: u32,
    },
    #[error("kernel BTF has no struct `{0}`")]
    NoStruct(String),
    #[error("kernel BTF struct `{strukt}` has no member `{member}`")]
    NoMember { strukt: String, member: String },
    #[error("kernel BTF member `{strukt}.{member}` is a bitfield (bit offset {bits})")]
    Bitfield {
        strukt: String,
        member: String,
        bits: u32,
    },
}

const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_TYPE_TAG: u32 = 18;

#[derive(Debug, Clone)]
struct Member {
    name: String,
    type_id: u32,
    /// Offset in bits from the start of the enclosing struct.
    bit_offset: u32,
}

#[derive(Debug, Clone)]
enum Ty {
    Composite {
        members: Vec<Member>,
    },
    /// typedef / const / volatile / restrict / type tag: refers to another type.
    Alias(u32),
    Other,
}

/// The parsed type graph: composites with their members, and aliases.
#[derive(Debug)]
pub struct Btf {
    types: Vec<Ty>,
    structs: HashMap<String, u32>,
    /// A type of a kind this reader does not know, where reading stopped: BTF gives no type's
    /// length, so nothing after it can be read, but the types before it still can.
    unknown: Option<(u32, u32)>,
}

fn u32_at(d: &[u8], at: usize) -> Result<u32, BtfError> {
    d.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(BtfError::Truncated(at))
}

fn str_at(strings: &[u8], off: u32) -> String {
    let s = strings.get(off as usize..).unwrap_or(&[]);
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    String::from_utf8_lossy(&s[..end]).into_owned()
}

impl Btf {
    /// Reads the running kernel's BTF.
    pub fn from_sys_fs() -> Result<Self, BtfError> {
        Self::from_file("/sys/kernel/btf/vmlinux")
    }

    pub fn from_file(path: &str) -> Result<Self, BtfError> {
        let data = std::fs::read(path).map_err(|source| BtfError::Read {
            path: path.into(),
            source,
        })?;
        Self::parse(&data)
    }

    /// Parses a little-endian BTF blob.
    pub fn parse(d: &[u8]) -> Result<Self, BtfError> {
        let magic = d
            .get(0..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or(BtfError::Truncated(0))?;
        if magic != 0xeb9f {
            return Err(BtfError::Magic(magic));
        }
        let hdr_len = u32_at(d, 4)? as usize;
        let type_off = hdr_len + u32_at(d, 8)? as usize;
        let type_len = u32_at(d, 12)? as usize;
        let str_off = hdr_len + u32_at(d, 16)? as usize;
        let str_len = u32_at(d, 20)? as usize;
        let strings = d
            .get(str_off..str_off + str_len)
            .ok_or(BtfError::Truncated(str_off))?;
        let end = type_off + type_len;
        // Type id 0 is `void`.
        let mut types = vec![Ty::Other];
        let mut structs = HashMap::new();
        let mut unknown = None;
        let mut at = type_off;
        while at < end {
            let name_off = u32_at(d, at)?;
            let info = u32_at(d, at + 4)?;
            let size_or_type = u32_at(d, at + 8)?;
            at += 12;
            let vlen = (info & 0xffff) as usize;
            let kind = (info >> 24) & 0x1f;
            let kflag = info >> 31 == 1;
            let ty = match kind {
                KIND_STRUCT | KIND_UNION => {
                    let mut members = Vec::with_capacity(vlen);
                    for i in 0..vlen {
                        let m = at + i * 12;
                        let raw = u32_at(d, m + 8)?;
                        members.push(Member {
                            name: str_at(strings, u32_at(d, m)?),
                            type_id: u32_at(d, m + 4)?,
                            bit_offset: if kflag { raw & 0x00ff_ffff } else { raw },
                        });
                    }
                    at += vlen * 12;
                    let name = str_at(strings, name_off);
                    if kind == KIND_STRUCT && !name.is_empty() {
                        structs.entry(name).or_insert(types.len() as u32);
                    }
                    Ty::Composite { members }
                }
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    Ty::Alias(size_or_type)
                }
                1 | 14 | 17 => {
                    at += 4;
                    Ty::Other
                }
                3 => {
                    at += 12;
                    Ty::Other
                }
                6 | 13 => {
                    at += vlen * 8;
                    Ty::Other
                }
                15 | 19 => {
                    at += vlen * 12;
                    Ty::Other
                }
                2 | 7 | 12 | 16 => Ty::Other,
                k => {
                    unknown = Some((k, types.len() as u32));
                    break;
                }
            };
            types.push(ty);
        }
        Ok(Self {
            types,
            structs,
            unknown,
        })
    }

    fn composite(&self, mut id: u32) -> Option<&[Member]> {
        // Bounded: alias chains in real BTF are a few links long.
        for _ in 0..16 {
            match self.types.get(id as usize)? {
                Ty::Composite { members } => return Some(members),
                Ty::Alias(next) => id = *next,
                Ty::Other => return None,
            }
        }
        None
    }

    /// Bit offset of `name` in composite `id`, looking through anonymous struct/union members.
    fn find(&self, id: u32, name: &str) -> Option<(u32, u32)> {
        let members = self.composite(id)?;
        if let Some(m) = members.iter().find(|m| m.name == name) {
            return Some((m.bit_offset, m.type_id));
        }
        members.iter().filter(|m| m.name.is_empty()).find_map(|m| {
            let (off, ty) = self.find(m.type_id, name)?;
            Some((m.bit_offset + off, ty))
        })
    }

    /// Byte offset of `path` (`"pwd.dentry"`, `"__sk_common.skc_dport"`) in struct `strukt`.
    pub fn offset(&self, strukt: &str, path: &str) -> Result<u32, BtfError> {
        let mut id = *self.structs.get(strukt).ok_or_else(|| match self.unknown {
            Some((kind, at)) => BtfError::AfterUnknownKind {
                strukt: strukt.into(),
                kind,
                at,
                read: at - 1,
            },
            None => BtfError::NoStruct(strukt.into()),
        })?;
        let mut bits = 0;
        for part in path.split('.') {
            let (off, ty) = self.find(id, part).ok_or_else(|| BtfError::NoMember {
                strukt: strukt.into(),
                member: path.into(),
            })?;
            bits += off;
            id = ty;
        }
        if bits % 8 != 0 {
            return Err(BtfError::Bitfield {
                strukt: strukt.into(),
                member: path.into(),
                bits,
            });
        }
        Ok(bits / 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a BTF blob by hand: `struct outer { int a; union { int x; struct inner in; }; }`.
    fn blob() -> Vec<u8> {
        let strings = b"\0outer\0a\0x\0inner\0in\0b\0int\0".to_vec();
        let s = |name: &str| -> u32 {
            let needle = [name.as_bytes(), b"\0"].concat();
            strings
                .windows(needle.len())
                .position(|w| w == needle.as_slice())
                .unwrap() as u32
        };
        let mut t = Vec::new();
        let mut ty = |name: u32, info: u32, size: u32, extra: &[u32]| {
            for v in [name, info, size].iter().chain(extra) {
                t.extend_from_slice(&v.to_le_bytes());
            }
        };
        // 1: int
        ty(s("int"), 1 << 24, 4, &[32]);
        // 2: struct inner { int b@0; int b2@32 } (only b named)
        ty(s("inner"), (4 << 24) | 1, 8, &[s("b"), 1, 32]);
        // 3: anonymous union { int x; struct inner in; }
        ty(0, (5 << 24) | 2, 8, &[s("x"), 1, 0, s("in"), 2, 0]);
        // 4: struct outer { int a@0; union@64 }
        ty(s("outer"), (4 << 24) | 2, 16, &[s("a"), 1, 0, 0, 3, 64]);
        let mut d = Vec::new();
        d.extend_from_slice(&0xeb9fu16.to_le_bytes());
        d.extend_from_slice(&[1, 0]);
        for v in [
            24u32,
            0,
            t.len() as u32,
            t.len() as u32,
            strings.len() as u32,
        ] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend_from_slice(&t);
        d.extend_from_slice(&strings);
        d
    }

    #[test]
    fn finds_members_through_anonymous_unions_and_paths() {
        let btf = Btf::parse(&blob()).unwrap();
        assert_eq!(btf.offset("outer", "a").unwrap(), 0);
        assert_eq!(btf.offset("outer", "x").unwrap(), 8);
        assert_eq!(btf.offset("outer", "in.b").unwrap(), 12);
        assert!(matches!(
            btf.offset("outer", "nope"),
            Err(BtfError::NoMember { .. })
        ));
        assert!(matches!(
            btf.offset("missing", "a"),
            Err(BtfError::NoStruct(_))
        ));
    }

    #[test]
    fn an_unknown_kind_stops_reading_but_keeps_what_came_before() {
        let mut d = blob();
        // Append a type of kind 31 (unknown) after the four known ones.
        let hdr_len = 24;
        let type_len = u32::from_le_bytes(d[12..16].try_into().unwrap()) as usize;
        let extra: Vec<u8> = [0u32, 31 << 24, 0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        d.splice(
            hdr_len + type_len..hdr_len + type_len,
            extra.iter().copied(),
        );
        let new_len = (type_len + extra.len()) as u32;
        d[12..16].copy_from_slice(&new_len.to_le_bytes());
        d[16..20].copy_from_slice(&new_len.to_le_bytes());
        let btf = Btf::parse(&d).unwrap();
        assert_eq!(btf.offset("outer", "in.b").unwrap(), 12);
        let e = btf.offset("task_struct", "pid").unwrap_err();
        assert!(
            matches!(
                e,
                BtfError::AfterUnknownKind {
                    kind: 31,
                    at: 5,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn rejects_non_btf() {
        assert!(matches!(
            Btf::parse(b"\x7fELF0000000000000000000000"),
            Err(BtfError::Magic(_))
        ));
        assert!(matches!(Btf::parse(b"\x9f"), Err(BtfError::Truncated(_))));
    }

    #[test]
    fn reads_the_running_kernel() {
        // Every Linux with BTF has these; skip (with a reason) on a kernel without BTF.
        let Ok(btf) = Btf::from_sys_fs() else {
            eprintln!("skipped: /sys/kernel/btf/vmlinux not readable");
            return;
        };
        let pid = btf.offset("task_struct", "pid").unwrap();
        let tgid = btf.offset("task_struct", "tgid").unwrap();
        assert_eq!(
            tgid,
            pid + 4,
            "pid_t pid; pid_t tgid; are adjacent in task_struct"
        );
        assert_eq!(btf.offset("path", "dentry").unwrap(), 8);
    }
}
