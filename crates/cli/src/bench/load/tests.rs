use super::*;

fn sleeper(ms: u64) -> Call {
    Arc::new(move |_| {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(())
        })
    })
}

#[tokio::test(start_paused = true)]
async fn open_loop_counts_queueing_a_closed_loop_would_hide() {
    // One call at a time can finish 10 per second; offered 50 per
    // second, an open loop sees calls waiting ever longer, because each
    // is timed from when it was due. A mutex makes the server serial;
    // the clock is tokio's paused one, so the figures are exact.
    let gate = Arc::new(tokio::sync::Mutex::new(()));
    let serial: Call = Arc::new(move |_| {
        let gate = gate.clone();
        Box::pin(async move {
            let _held = gate.lock().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(())
        })
    });
    let open = open_loop(serial.clone(), 50.0, Duration::from_millis(400), 1_000).await;
    assert_eq!(open.ok, 20);
    // The last of 20 serial 100 ms calls finishes about 2 s after the
    // run began, about 1.6 s after it was due.
    assert!(open.latency.max_us > 1_500_000, "{:?}", open.latency);
    let closed = sequential(serial, 3).await;
    assert!(closed.latency.max_us < 110_000, "{:?}", closed.latency);
}

#[tokio::test(start_paused = true)]
async fn open_loop_refuses_to_queue_past_its_bound() {
    let open = open_loop(sleeper(200), 100.0, Duration::from_millis(100), 3).await;
    assert_eq!(open.ok, 3);
    assert_eq!(open.not_sent, 7);
}

#[tokio::test]
async fn errors_are_counted_with_the_first_reason() {
    let failing: Call = Arc::new(|n| {
        Box::pin(async move {
            if n % 2 == 0 {
                Err(tonic::Status::unavailable("down"))
            } else {
                Ok(())
            }
        })
    });
    let o = sequential(failing, 4).await;
    assert_eq!((o.ok, o.errors), (2, 2));
    assert!(o.first_error.unwrap().contains("down"));
}

#[test]
fn median_of_rounds() {
    assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(vec![4.0, 1.0]), 1.0);
    assert_eq!(median(vec![]), 0.0);
}
