//! A derive macro that, while rustc expands it, reads a file and runs git.
use proc_macro::TokenStream;

#[proc_macro_derive(Describe)]
pub fn describe(input: TokenStream) -> TokenStream {
    let _ = std::fs::read_to_string("/etc/hostname");
    let _ = std::process::Command::new("git").arg("--version").output();
    let name = input
        .to_string()
        .split_whitespace()
        .skip_while(|w| *w != "struct")
        .nth(1)
        .unwrap_or("Unknown")
        .trim_end_matches(';')
        .to_string();
    format!("impl {name} {{ pub fn describe() -> &'static str {{ \"{name}\" }} }}")
        .parse()
        .unwrap()
}
