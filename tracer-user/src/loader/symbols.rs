//! Finding where a proc macro's code starts running in its compiled library: the proc_macro
//! bridge's `run_client` (every expansion of every macro in the library goes through it, and it
//! calls the macro's own function).

use object::{Object, ObjectSymbol};

/// Why a library's entry points could not be found.
#[derive(Debug, thiserror::Error)]
pub enum SymbolError {
    #[error("reading {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an ELF object: {reason}")]
    Parse { path: String, reason: String },
    #[error("{path} has no proc_macro::bridge::client::run_client symbol (stripped?)")]
    NotFound { path: String },
}

/// True for a (legacy- or v0-)mangled `proc_macro::bridge::client::run_client` instance.
pub fn is_run_client(mangled: &str) -> bool {
    mangled.contains("10proc_macro")
        && mangled.contains("6bridge")
        && mangled.contains("10run_client")
}

/// The mangled names of every `run_client` instance defined in the library at `path`.
pub fn run_client_symbols(path: &str) -> Result<Vec<String>, SymbolError> {
    let data = std::fs::read(path).map_err(|source| SymbolError::Read {
        path: path.into(),
        source,
    })?;
    let file = object::File::parse(&*data).map_err(|e| SymbolError::Parse {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut names: Vec<String> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.is_definition() && s.kind() == object::SymbolKind::Text)
        .filter_map(|s| s.name().ok().map(str::to_string))
        .filter(|n| is_run_client(n))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(SymbolError::NotFound { path: path.into() });
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_both_manglings() {
        assert!(is_run_client(
            "_ZN10proc_macro6bridge6client10run_client17h0123456789abcdefE"
        ));
        assert!(is_run_client(
            "_RINvNtNtCs1a2b_10proc_macro6bridge6client10run_clientINtB4_6BufferE"
        ));
        assert!(!is_run_client(
            "_ZN10proc_macro6bridge6client12run_server17hE"
        ));
        assert!(!is_run_client("_ZN4core3fmt5write17hE"));
    }

    #[test]
    fn a_library_without_the_bridge_is_reported() {
        // The test binary itself is an ELF object without a proc-macro client.
        let me = std::env::current_exe().unwrap();
        let err = run_client_symbols(me.to_str().unwrap()).unwrap_err();
        assert!(matches!(err, SymbolError::NotFound { .. }), "{err}");
    }
}
