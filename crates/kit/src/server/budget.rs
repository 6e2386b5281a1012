//! A per-process budget of request bytes in flight. Concurrency alone does not
//! bound memory: 512 requests of 16 MiB each are 8 GiB. Each request reserves
//! its bytes against one budget, from its `Content-Length` when it declares one
//! or else as its body streams in; a request that would pass the budget is
//! answered RESOURCE_EXHAUSTED at once, and its reservation is given back when
//! it finishes. A client stream holds at most the message being received and
//! the one before it (which its handler may still be working on), so a long
//! stream of small messages does not hold the budget.
//!
//! Wire bytes are not all a request holds: a message may take many times its
//! size once decoded. The codec foresees each message's decoded size before
//! decoding it and charges the difference to the same budget (see
//! [`rapport_proto::codec::charge`]), held with the message until the next
//! one of its stream replaces it or the request ends.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use rapport_proto::codec::charge::{Charge, charged};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Status, body::Body};

use super::middleware::{Answer, GrpcInner, Middleware};

/// The gRPC frame header: a compression flag and a big-endian length.
const FRAME_HEADER: usize = 5;

/// Middleware holding every request's bytes against one budget.
#[derive(Clone, Debug)]
pub struct InflightBytes {
    permits: Arc<Semaphore>,
    budget: usize,
}

impl InflightBytes {
    /// Allows `budget` bytes of requests in flight at once.
    pub fn new(budget: usize) -> Self {
        let budget = budget.min(Semaphore::MAX_PERMITS);
        InflightBytes {
            permits: Arc::new(Semaphore::new(budget)),
            budget,
        }
    }

    /// Bytes not reserved by any request right now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    fn refusal(&self, what: String) -> Status {
        Status::resource_exhausted(format!(
            "server busy: {what} does not fit in the {} bytes of requests it may hold at once; \
             retry with back-off",
            self.budget
        ))
    }

    /// Reserves `bytes` for `what` at once or not at all: for work the
    /// middleware does not see, such as parsing a JSON body.
    pub fn reserve_for(
        &self,
        bytes: usize,
        what: &str,
    ) -> Result<Option<OwnedSemaphorePermit>, Status> {
        self.try_reserve(bytes)
            .map_err(|()| self.refusal(what.to_owned()))
    }

    /// Reserves `bytes` at once or not at all.
    fn reserve(&self, bytes: usize) -> Result<Option<OwnedSemaphorePermit>, Status> {
        self.try_reserve(bytes)
            .map_err(|()| self.refusal(format!("a request of {bytes} bytes")))
    }

    fn try_reserve(&self, bytes: usize) -> Result<Option<OwnedSemaphorePermit>, ()> {
        if bytes == 0 {
            return Ok(None);
        }
        u32::try_from(bytes)
            .ok()
            .and_then(|n| self.permits.clone().try_acquire_many_owned(n).ok())
            .map(Some)
            .ok_or(())
    }
}

impl<S: GrpcInner<Body>> Middleware<S, Body> for InflightBytes {
    fn call(&self, mut inner: S, req: http::Request<Body>) -> Answer<S, Body> {
        let declared = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let held = Arc::new(Mutex::new(Held::default()));
        if let Some(bytes) = declared {
            match self.reserve(bytes) {
                Ok(permit) => lock(&held).last = permit,
                Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
            }
        }
        let charge: Arc<dyn Charge> = Arc::new(Decoded {
            budget: self.clone(),
            held: held.clone(),
        });
        let (budget, shared, prepaid) = (self.clone(), held.clone(), declared.is_some());
        let req = req.map(|body| {
            Body::new(Metered {
                inner: Some(body),
                budget,
                held: shared,
                prepaid,
                frame: FrameCursor::default(),
            })
        });
        Box::pin(async move {
            let res = charged(charge, inner.call(req)).await;
            // The handler has answered: what it decoded is gone with it. The
            // body may still be held by hyper until the stream closes.
            lock(&held).release();
            res
        })
    }
}

/// Charges a request's decoded messages to its budget, with the message the
/// handler works on.
struct Decoded {
    budget: InflightBytes,
    held: Arc<Mutex<Held>>,
}

impl Charge for Decoded {
    fn charge(&self, wire: usize, decoded: usize) -> Result<(), Status> {
        // Every message decoded while the request is handled comes here,
        // including the responses of calls the handler makes to other
        // services. Only as many messages as the request's body has
        // delivered are its own: charging the others would hold a page of
        // every response until the request ends, and refuse a handler that
        // reads many pages (a whole-tenant refresh) once their sum passed
        // the budget.
        {
            let mut held = lock(&self.held);
            if held.unpaid == 0 {
                return Ok(());
            }
            held.unpaid -= 1;
        }
        if decoded > self.budget.budget {
            return Err(Status::resource_exhausted(format!(
                "a message of {wire} bytes takes about {decoded} bytes once decoded, more than \
                 the {} bytes of requests this server may hold at all: send it in smaller \
                 batches",
                self.budget.budget
            )));
        }
        let more = decoded.saturating_sub(wire);
        let permit = self.budget.try_reserve(more).map_err(|()| {
            self.budget.refusal(format!(
                "a message of {wire} bytes that takes about {decoded} bytes once decoded"
            ))
        })?;
        lock(&self.held).add_to_last(permit);
        Ok(())
    }
}

/// What one request holds: the message being received and the one before.
#[derive(Default)]
struct Held {
    current: Option<OwnedSemaphorePermit>,
    last: Option<OwnedSemaphorePermit>,
    /// Messages of the request's body received whole and not yet charged
    /// for their decoded size.
    unpaid: usize,
}

impl Held {
    fn add(&mut self, permit: Option<OwnedSemaphorePermit>) {
        merge(&mut self.current, permit);
    }

    /// What the last complete message takes once decoded.
    fn add_to_last(&mut self, permit: Option<OwnedSemaphorePermit>) {
        merge(&mut self.last, permit);
    }

    /// A message is complete: it becomes the one the handler works on, and
    /// the one before is given back.
    fn complete_message(&mut self) {
        self.last = self.current.take();
    }

    fn release(&mut self) {
        self.current = None;
        self.last = None;
    }
}

/// Adds `more` to what `slot` holds.
fn merge(slot: &mut Option<OwnedSemaphorePermit>, more: Option<OwnedSemaphorePermit>) {
    match (slot.as_mut(), more) {
        (Some(held), Some(more)) => held.merge(more),
        (_, more) => *slot = slot.take().or(more),
    }
}

fn lock(held: &Mutex<Held>) -> std::sync::MutexGuard<'_, Held> {
    held.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where the body is in the gRPC framing: inside a header or a message.
#[derive(Default)]
struct FrameCursor {
    header: [u8; FRAME_HEADER],
    header_len: usize,
    remaining: usize,
}

impl FrameCursor {
    /// Splits the next bytes of the body into runs, each ending where a
    /// message ends (`true`) or where the bytes run out (`false`).
    fn runs(&mut self, mut data: &[u8]) -> Vec<(usize, bool)> {
        let mut runs = Vec::new();
        let mut run = 0;
        while !data.is_empty() {
            if self.remaining > 0 {
                let take = self.remaining.min(data.len());
                self.remaining -= take;
                run += take;
                data = &data[take..];
                if self.remaining == 0 {
                    runs.push((std::mem::take(&mut run), true));
                }
                continue;
            }
            let take = (FRAME_HEADER - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
            self.header_len += take;
            run += take;
            data = &data[take..];
            if self.header_len == FRAME_HEADER {
                self.header_len = 0;
                let len = u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]);
                self.remaining = len as usize;
                if self.remaining == 0 {
                    runs.push((std::mem::take(&mut run), true));
                }
            }
        }
        if run > 0 {
            runs.push((run, false));
        }
        runs
    }
}

/// A request body that reserves its bytes as they arrive.
struct Metered {
    inner: Option<Body>,
    budget: InflightBytes,
    held: Arc<Mutex<Held>>,
    /// Reserved up front from `Content-Length`.
    prepaid: bool,
    frame: FrameCursor,
}

impl Metered {
    fn account(&mut self, data: &Bytes) -> Result<(), Status> {
        let mut held = lock(&self.held);
        for (len, ends_message) in self.frame.runs(data) {
            // A body reserved whole from its `Content-Length` keeps that
            // reservation until the request ends.
            if ends_message {
                held.unpaid += 1;
            }
            if !self.prepaid {
                held.add(self.budget.reserve(len)?);
                if ends_message {
                    held.complete_message();
                }
            }
        }
        Ok(())
    }
}

impl HttpBody for Metered {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref()
            && let Err(status) = this.account(data)
        {
            // Nothing more is read from a refused request.
            this.inner = None;
            lock(&this.held).release();
            return Poll::Ready(Some(Err(status)));
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| http_body::SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Vec<u8> {
        let mut f = vec![0u8];
        f.extend_from_slice(&(len as u32).to_be_bytes());
        f.extend(std::iter::repeat_n(7u8, len));
        f
    }

    #[test]
    fn runs_end_where_messages_end_across_chunks() {
        let mut bytes = frame(10);
        bytes.extend(frame(0));
        bytes.extend(frame(3));
        let mut cursor = FrameCursor::default();
        // Split inside the first header, then inside the last message.
        assert_eq!(cursor.runs(&bytes[..2]), [(2, false)]);
        assert_eq!(cursor.runs(&bytes[2..20]), [(13, true), (5, true)]);
        assert_eq!(cursor.runs(&bytes[20..22]), [(2, false)]);
        assert_eq!(cursor.runs(&bytes[22..]), [(6, true)]);
    }

    #[test]
    fn a_stream_holds_two_messages_at_most() {
        let budget = InflightBytes::new(100);
        let mut held = Held::default();
        for _ in 0..10 {
            held.add(budget.reserve(30).unwrap());
            held.complete_message();
        }
        assert_eq!(budget.available(), 70);
        assert!(budget.reserve(71).is_err());
        held.release();
        assert_eq!(budget.available(), 100);
    }

    #[test]
    fn decoded_bytes_are_held_with_their_message_until_the_next_replaces_it() {
        let budget = InflightBytes::new(1_000);
        let held = Arc::new(Mutex::new(Held::default()));
        let decoded = Decoded {
            budget: budget.clone(),
            held: held.clone(),
        };
        let received = |held: &Arc<Mutex<Held>>, bytes: usize| {
            let mut h = lock(held);
            h.add(budget.reserve(bytes).unwrap());
            h.complete_message();
            h.unpaid += 1;
        };
        // A 100-byte message that decodes to 400 holds 400 in all.
        received(&held, 100);
        decoded.charge(100, 400).unwrap();
        assert_eq!(budget.available(), 600);
        // A message that decodes to less than its wire size holds its wire size.
        lock(&held).unpaid += 1;
        decoded.charge(100, 10).unwrap();
        assert_eq!(budget.available(), 600);
        // One whose decoded form does not fit is refused, and reserves nothing.
        lock(&held).unpaid += 1;
        let refused = decoded.charge(100, 800).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(
            refused.message().contains("800 bytes once decoded"),
            "{refused:?}"
        );
        assert_eq!(budget.available(), 600);
        // The next message of the stream replaces it.
        received(&held, 50);
        decoded.charge(50, 50).unwrap();
        assert_eq!(budget.available(), 950);
        lock(&held).release();
        assert_eq!(budget.available(), 1_000);
    }

    #[test]
    fn responses_the_handler_decodes_are_not_charged_to_its_request() {
        // A unary request of 100 bytes decoding to 400, whose handler then
        // reads 50 pages of 300 bytes decoding to 20,000 from another
        // service: only the request's own message is charged, and every
        // page is read.
        let budget = InflightBytes::new(100_000);
        let held = Arc::new(Mutex::new(Held::default()));
        let decoded = Decoded {
            budget: budget.clone(),
            held: held.clone(),
        };
        let mut metered = Metered {
            inner: None,
            budget: budget.clone(),
            held: held.clone(),
            prepaid: false,
            frame: FrameCursor::default(),
        };
        metered.account(&Bytes::from(frame(100))).unwrap();
        decoded.charge(100, 400).unwrap();
        let held_by_request = 100_000 - budget.available();
        assert_eq!(held_by_request, 400 + FRAME_HEADER);
        for _ in 0..50 {
            decoded.charge(300, 20_000).unwrap();
        }
        assert_eq!(100_000 - budget.available(), held_by_request);
        lock(&held).release();
        assert_eq!(budget.available(), 100_000);
    }
}
