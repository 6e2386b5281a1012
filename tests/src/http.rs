//! HTTP as a caller outside Rust makes it: `curl`, and the README's shell
//! blocks run as written.

use std::process::Command;

/// `curl` with `args` (plus `-s`, and the status code on a last line):
/// the status and the body.
pub fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .arg("-s")
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs (it is installed by .ci/run)");
    assert!(out.status.success(), "curl {args:?}: {out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let (body, code) = text.rsplit_once('\n').expect("a status line");
    (code.parse().expect("a status code"), body.to_owned())
}

/// The README at the root of the repository.
pub fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md")
}

/// The first block fenced with `fence` after `heading` in the README.
pub fn block_after(readme: &str, heading: &str, fence: &str) -> String {
    let rest = &readme[readme.find(heading).expect("the section")..];
    let open = rest.find(fence).expect("the block") + fence.len();
    let close = rest[open..].find("```").expect("closed");
    rest[open..open + close].to_owned()
}

/// The shell example of a README section and what the README says it
/// prints, with the address of `rapport up` (the README's) replaced by
/// `url`, the test suite's.
pub fn readme_example(section: &str, url: &str) -> (String, String) {
    let readme = readme();
    let block = block_after(&readme, section, "```sh\n");
    let expected = block_after(&readme, section, "prints\n\n```\n");
    let default = "RAPPORT=http://127.0.0.1:50051";
    assert!(block.contains(default), "the block sets {default}");
    (block.replace(default, &format!("RAPPORT={url}")), expected)
}
