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

#[allow(non_camel_case_types, dead_code)]
mod native {
    include!(concat!(env!("OUT_DIR"), "/demo.rs"));
}

shadow_rs::shadow!(build_info);

#[derive(sqlx::FromRow)]
struct One {
    #[allow(dead_code)]
    one: i64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _ = git_version::git_version!(fallback = "none");
    let _ = Sources::get("main.rs");
    println!("{}", answer());
    println!("{}", unsafe { native::bench_add(1, 2) });
    println!("{} {}", build_info::PKG_VERSION, env!("VERGEN_GIT_SHA"));
    println!("{}", openssl::version::version());
    // Checked against the database at compile time by sqlx's macro.
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    let row = sqlx::query!("SELECT 1 AS one").fetch_one(&pool).await.unwrap();
    let _ = One { one: row.one as i64 };
}
