#[cxx::bridge]
mod ffi {
    extern "Rust" {
        fn answer() -> u32;
    }
}

fn answer() -> u32 {
    42
}

#[derive(rust_embed::Embed)]
#[folder = "src/"]
struct Sources;

fn main() {
    let _ = git_version::git_version!(fallback = "none");
    let _ = Sources::get("main.rs");
    println!("{}", answer());
}
