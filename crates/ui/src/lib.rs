//! The web dashboard: static HTML, CSS and JavaScript modules (and the
//! vendored charting library, uPlot) compiled into the binary, so the
//! dashboard needs no files beside the binary and nothing from the network.
//! The pages call the JSON API of the port that serves them; the server
//! (`rapport_kit::server::Server::add_pages`) serves these files under `/ui/`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// One file of the dashboard.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    /// Its path below the dashboard's root, e.g. `js/main.js`.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!("../assets/", $path)).as_slice())),*]
    };
}

/// Every file, by path. A test checks that each file under `assets/` is here.
static FILES: &[(&str, &[u8])] = assets![
    "index.html",
    "app.css",
    "favicon.svg",
    "js/api.js",
    "js/charts.js",
    "js/csv.js",
    "js/dom.js",
    "js/format.js",
    "js/main.js",
    "js/reports.js",
    "js/pages/customer.js",
    "js/pages/cross_sell.js",
    "js/pages/customers.js",
    "js/pages/overview.js",
    "js/pages/reports.js",
    "js/pages/rules.js",
    "js/pages/signin.js",
    "vendor/uplot/LICENSE",
    "vendor/uplot/README.md",
    "vendor/uplot/uPlot.iife.min.js",
    "vendor/uplot/uPlot.min.css",
];

/// The file at `path` (below the dashboard's root; `""` is `index.html`).
pub fn asset(path: &str) -> Option<Asset> {
    let path = if path.is_empty() { "index.html" } else { path };
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|&(path, body)| Asset {
            path,
            content_type: content_type(path),
            body,
        })
}

/// The paths of every file.
pub fn paths() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(p, _)| *p)
}

/// The `Content-Type` a file is served with, from its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests;
