use std::sync::{
    Mutex,
    atomic::{AtomicUsize, Ordering},
};

use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::*;

/// A gRPC health server on a port of its own that counts the calls it
/// takes.
async fn counting_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(tonic::service::InterceptorLayer::new(
                move |req: tonic::Request<()>| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    Ok(req)
                },
            ))
            .add_service(health)
            .serve_with_incoming(crate::server::accepting(listener))
            .await
    });
    (addr, calls)
}

async fn check(channel: &Channel, n: usize) {
    let mut client = HealthClient::new(channel.clone());
    for _ in 0..n {
        client
            .check(HealthCheckRequest::default())
            .await
            .expect("a health check through the balanced channel");
    }
}

/// The servers are real; the DNS answer is the test's, since no name on the
/// test machine resolves to two addresses.
#[tokio::test]
async fn calls_spread_over_every_address_and_follow_the_answer() {
    let (a, a_calls) = counting_server().await;
    let (b, b_calls) = counting_server().await;
    let answer = Arc::new(Mutex::new(vec![a, b]));
    let given = answer.clone();
    let resolver: Resolver = Arc::new(move |host, port| {
        assert_eq!((host.as_str(), port), ("scoring.rapport.svc", 50051));
        let addrs = given.lock().unwrap().clone();
        Box::pin(async move { Ok(addrs) })
    });
    let every = Duration::from_millis(50);
    let channel = balanced_channel("http://scoring.rapport.svc:50051", every, resolver, |u| {
        Ok(Endpoint::from_shared(u.to_owned())?)
    })
    .unwrap();
    // The first answer replaces the name with the two addresses.
    tokio::time::sleep(every * 3).await;
    check(&channel, 200).await;
    let (on_a, on_b) = (
        a_calls.load(Ordering::SeqCst),
        b_calls.load(Ordering::SeqCst),
    );
    assert_eq!(on_a + on_b, 200);
    assert!(on_a >= 40 && on_b >= 40, "a took {on_a}, b took {on_b}");

    // A pod leaves the answer: it gets no more calls.
    *answer.lock().unwrap() = vec![b];
    tokio::time::sleep(every * 3).await;
    check(&channel, 50).await;
    assert_eq!(a_calls.load(Ordering::SeqCst), on_a, "a left the answer");
    assert_eq!(b_calls.load(Ordering::SeqCst), on_b + 50);

    // A new pod joins: it takes its share without the caller reconnecting.
    let (c, c_calls) = counting_server().await;
    *answer.lock().unwrap() = vec![b, c];
    tokio::time::sleep(every * 3).await;
    check(&channel, 200).await;
    assert!(
        c_calls.load(Ordering::SeqCst) >= 40,
        "the new pod takes calls"
    );
}

#[tokio::test]
async fn a_failed_answer_keeps_calling_by_name() {
    let (a, a_calls) = counting_server().await;
    let resolver: Resolver = Arc::new(|_, _| {
        Box::pin(async { Err(std::io::Error::other("no answer from the DNS server")) })
    });
    // The name is an address here, so calls by name reach the server.
    let url = format!("http://{a}");
    let channel = balanced_channel(&url, Duration::from_millis(20), resolver, |u| {
        Ok(Endpoint::from_shared(u.to_owned())?)
    })
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    check(&channel, 10).await;
    assert_eq!(a_calls.load(Ordering::SeqCst), 10);
}
