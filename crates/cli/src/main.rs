//! `rapport`: run the suite, manage tenants, import CSV, run the demo.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport_kit::app::exit(rapport::cli::run().await)
}
