//! Compiles `proto/rapport/v1/*.proto` with protox (pure Rust, no system
//! `protoc`) and generates the tonic clients and servers.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "common",
        "profiles",
        "ingestion",
        "scoring",
        "notifications",
        "rules",
        "tenants",
        "admin",
        "score_changes",
        "reports",
        "opportunities",
        "loyalty",
    ]
    .map(|name| root.join(format!("rapport/v1/{name}.proto")));
    // The directory for files added or removed, and each file for edits
    // (a directory's time does not change when a file in it is edited).
    println!("cargo:rerun-if-changed={}", root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("rapport_descriptor.bin"), fds.encode_to_vec())?;

    // Every message names itself (`prost::Name`), so the codec can find
    // its schema and foresee its decoded size before decoding it.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Malformed requests are INVALID_ARGUMENT, not prost's INTERNAL.
        .codec_path("crate::codec::ProstCodec")
        .compile_fds_with_config(fds, config)?;
    Ok(())
}
