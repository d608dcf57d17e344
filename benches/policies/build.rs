fn main() {
    built::write_built_file().expect("built");
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/x.proto"), "syntax = \"proto3\";\npackage x;\nmessage M { string s = 1; }\n").unwrap();
    let mut prost = prost_build::Config::new();
    prost.protoc_executable(protoc_bin_vendored::protoc_bin_path().unwrap());
    prost.compile_protos(&[format!("{out}/x.proto")], &[out.clone()]).unwrap();
    cxx_build::bridge("src/main.rs").compile("bench-policies-cxx");
    let _ = pkg_config::probe_library("zlib");
    let _ = version_check::is_min_version("1.70.0");
    println!("cargo:rerun-if-changed=build.rs");
}
