use std::path::{Path, PathBuf};

use super::{asset, paths};

fn assets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

fn files_under(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            let rel = path.strip_prefix(assets_dir()).unwrap();
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn text(path: &str) -> String {
    String::from_utf8(asset(path).unwrap().body.to_vec()).unwrap()
}

/// The dashboard's own code, not the vendored library.
fn own_files() -> impl Iterator<Item = &'static str> {
    paths().filter(|p| !p.starts_with("vendor/"))
}

#[test]
fn every_file_in_assets_is_served() {
    let mut on_disk = Vec::new();
    files_under(&assets_dir(), &mut on_disk);
    on_disk.sort();
    let mut served: Vec<&str> = paths().collect();
    served.sort();
    assert_eq!(on_disk, served, "list each file of assets/ in FILES");
}

#[test]
fn the_root_is_the_page_and_types_follow_extensions() {
    assert_eq!(asset("").unwrap().path, "index.html");
    assert_eq!(
        asset("index.html").unwrap().content_type,
        "text/html; charset=utf-8"
    );
    assert_eq!(
        asset("js/main.js").unwrap().content_type,
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        asset("vendor/uplot/uPlot.min.css").unwrap().content_type,
        "text/css; charset=utf-8"
    );
    assert!(asset("../Cargo.toml").is_none());
    assert!(asset("js/nope.js").is_none());
}

#[test]
fn the_page_has_no_inline_script_or_style() {
    // The server's Content-Security-Policy forbids them: the browser would
    // refuse them, so they must not be there.
    let html = text("index.html").to_ascii_lowercase();
    for tag in html.split("<script").skip(1) {
        let head = &tag[..tag.find('>').unwrap()];
        assert!(head.contains("src="), "an inline script: <script{head}>");
    }
    assert!(!html.contains("<style"), "an inline style element");
    assert!(!html.contains(" style="), "an inline style attribute");
    assert!(!html.contains(" on"), "an inline event handler");
}

#[test]
fn the_code_keeps_the_key_in_the_session_and_loads_nothing_from_outside() {
    for path in own_files() {
        // An SVG names its XML namespace with a URL that is never fetched.
        let code = text(path).replace("http://www.w3.org/2000/svg", "");
        for banned in [
            "localStorage",
            "document.cookie",
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "eval(",
            "new Function",
            "http://",
            "https://",
        ] {
            assert!(!code.contains(banned), "{path} uses {banned}");
        }
    }
}

#[test]
fn the_vendored_chart_library_says_where_it_came_from() {
    let readme = text("vendor/uplot/README.md");
    assert!(readme.contains("uplot@1.6.32"), "{readme}");
    assert!(text("vendor/uplot/LICENSE").contains("MIT License"));
    assert!(text("vendor/uplot/uPlot.iife.min.js").contains("(v1.6.32)"));
}
