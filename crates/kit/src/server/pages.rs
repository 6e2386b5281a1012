//! Static pages on the API port: the web dashboard under `/ui/`, served to
//! any browser without a key (the files hold no data; the pages call the
//! JSON API with the key the user signs in with).
//!
//! Every page goes out with a strict Content-Security-Policy: scripts,
//! styles, images and calls only from this origin, no inline script or
//! style, no framing. The dashboard is built to need nothing more, so a
//! script injected through data it shows could neither run nor send
//! anything elsewhere.

use std::hash::Hasher as _;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use tonic::body::Body;

use super::middleware::{Answer, GrpcInner, Middleware};

/// One file to serve.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

/// The files of a site: the file at a path below its root (`""` for the
/// root's index), or `None`.
pub type Pages = fn(&str) -> Option<Page>;

/// What the browser may load for a page: nothing but this origin's own
/// files and API, no inline code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Middleware answering `GET` and `HEAD` under a prefix from [`Pages`];
/// every other request passes through.
#[derive(Clone)]
pub struct StaticPages {
    prefix: &'static str,
    pages: Option<Pages>,
}

impl StaticPages {
    /// Serves `pages` under `prefix` (`/ui`), or nothing when `None`.
    pub fn new(prefix: &'static str, pages: Option<Pages>) -> Self {
        StaticPages { prefix, pages }
    }

    /// The answer to `req`, or `None` when the request is not for a page.
    fn answer<B>(&self, req: &Request<B>) -> Option<Response<Body>> {
        let pages = self.pages?;
        let path = req.uri().path();
        let rest = path.strip_prefix(self.prefix)?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut res = plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only\n");
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Some(res);
        }
        // `/ui` itself: relative links in the page resolve against `/ui/`.
        let Some(file) = rest.strip_prefix('/') else {
            let mut res = plain(StatusCode::PERMANENT_REDIRECT, "");
            if let Ok(to) = HeaderValue::from_str(&format!("{}/", self.prefix)) {
                res.headers_mut().insert(header::LOCATION, to);
            }
            return Some(res);
        };
        let Some(page) = pages(file) else {
            return Some(plain(StatusCode::NOT_FOUND, "no such page\n"));
        };
        let etag = etag(page.body);
        let fresh = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == etag.as_bytes());
        let mut res = if fresh {
            empty(StatusCode::NOT_MODIFIED)
        } else if req.method() == Method::HEAD {
            empty(StatusCode::OK)
        } else {
            Response::new(Body::new(Full::new(Bytes::from_static(page.body))))
        };
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(page.content_type),
        );
        if let Ok(v) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, v);
        }
        // Asked again on each load (answered 304 while unchanged), so a new
        // binary's pages are never mixed with an old one's.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        secure(headers);
        Some(res)
    }
}

/// The headers every answer under the prefix carries.
fn secure(headers: &mut http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    res
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut res = Response::new(Body::new(Full::new(Bytes::from_static(text.as_bytes()))));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(res.headers_mut());
    res
}

/// A strong validator of a file's bytes (FNV-1a: fixed across processes,
/// unlike the standard library's randomly keyed hasher).
fn etag(body: &[u8]) -> String {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.write(body);
    format!("\"{:016x}\"", h.finish())
}

struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl<S: GrpcInner<B>, B: Send + 'static> Middleware<S, B> for StaticPages {
    fn call(&self, mut inner: S, req: Request<B>) -> Answer<S, B> {
        match self.answer(&req) {
            Some(res) => Box::pin(async move { Ok(res) }),
            None => Box::pin(inner.call(req)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(path: &str) -> Option<Page> {
        (path == "index.html" || path.is_empty()).then_some(Page {
            content_type: "text/html; charset=utf-8",
            body: b"<!doctype html>",
        })
    }

    fn get(path: &str) -> Request<()> {
        Request::get(path).body(()).unwrap()
    }

    #[test]
    fn pages_are_served_under_the_prefix_with_the_policy() {
        let pages = StaticPages::new("/ui", Some(site));
        let res = pages.answer(&get("/ui/")).unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let tag = h[header::ETAG].clone();

        let again = Request::get("/ui/index.html")
            .header(header::IF_NONE_MATCH, tag)
            .body(())
            .unwrap();
        assert_eq!(
            pages.answer(&again).unwrap().status(),
            StatusCode::NOT_MODIFIED
        );
        let bare = pages.answer(&get("/ui")).unwrap();
        assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(bare.headers()[header::LOCATION], "/ui/");
        assert_eq!(
            pages.answer(&get("/ui/nope.js")).unwrap().status(),
            StatusCode::NOT_FOUND
        );
        let post = Request::post("/ui/").body(()).unwrap();
        assert_eq!(
            pages.answer(&post).unwrap().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn other_paths_and_servers_without_pages_pass_through() {
        let pages = StaticPages::new("/ui", Some(site));
        assert!(pages.answer(&get("/uix")).is_none());
        assert!(pages.answer(&get("/openapi.json")).is_none());
        assert!(StaticPages::new("/ui", None).answer(&get("/ui/")).is_none());
    }
}
