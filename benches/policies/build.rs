fn main() {
    built::write_built_file().expect("built");
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/x.proto"), "syntax = \"proto3\";\npackage x;\nmessage M { string s = 1; }\nservice S { rpc Get(M) returns (M); }\n").unwrap();
    let protoc = protoc_bin_vendored::protoc_bin_path().unwrap();
    let mut prost = prost_build::Config::new();
    prost.protoc_executable(&protoc);
    prost.compile_protos(&[format!("{out}/x.proto")], &[out.clone()]).unwrap();
    // tonic-build's prost-build (another major) finds protoc through $PROTOC.
    // SAFETY: the build script is single-threaded here.
    unsafe { std::env::set_var("PROTOC", &protoc) };
    std::fs::create_dir_all(format!("{out}/grpc")).unwrap();
    tonic_build::configure()
        .out_dir(format!("{out}/grpc"))
        .compile_protos(&[format!("{out}/x.proto")], &[out.clone()])
        .unwrap();
    cxx_build::bridge("src/main.rs").compile("bench-policies-cxx");
    let _ = pkg_config::probe_library("zlib");
    let _ = version_check::is_min_version("1.70.0");
    let dst = cmake::Config::new("native").build();
    println!("cargo:rustc-link-search=native={}/lib", dst.display());
    println!("cargo:rustc-link-lib=static=benchnative");
    bindgen::Builder::default()
        .header("native/demo.h")
        .generate()
        .expect("bindgen")
        .write_to_file(format!("{out}/demo.rs"))
        .unwrap();
    pyo3_build_config::use_pyo3_cfgs();
    shadow_rs::ShadowBuilder::builder().build().expect("shadow-rs");
    let git = vergen_gitcl::Gitcl::all_git();
    vergen_gitcl::Emitter::default()
        .add_instructions(&git)
        .unwrap()
        .emit()
        .unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
