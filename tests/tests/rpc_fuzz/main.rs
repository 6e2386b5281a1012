//! Fuzzing every RPC of the all-in-one server with a real tenant's key:
//! requests generated from the descriptors (control characters, huge and
//! odd unicode strings, extreme numbers, timestamps at the protobuf range's
//! ends, unknown enum values, deep nesting, long lists and maps), mutations
//! of a well-formed request aimed at the tenant's real data, and bytes that
//! are no message at all. No input may panic the server or be answered
//! INTERNAL or UNKNOWN, and the server answers health checks afterwards.
//!
//! `RAPPORT_FUZZ_CASES` sets the inputs per RPC (default 60); the README's
//! testing section gives the size of a full run.

mod generate;

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use proptest::{
    collection::vec,
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner},
};
use rapport_kit::testing::{self, Backend};
use rapport_tests::{
    all_in_one,
    rpc::{Caller, Method, methods_deletions_last},
    seeds::seed,
    world::World,
};
use tonic::Code;

/// Panics anywhere in this process (the server runs in it) since start.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

fn cases() -> u32 {
    std::env::var("RAPPORT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}

/// Answers no input may get: they mean the server failed, not the caller.
fn server_fault(code: Code) -> bool {
    // UNIMPLEMENTED: an RPC the protos declare that the server does not serve.
    matches!(
        code,
        Code::Internal | Code::Unknown | Code::DataLoss | Code::Unimplemented
    )
}

struct Run {
    caller: Caller,
    world: World,
    ids: Vec<String>,
    inputs: Arc<AtomicUsize>,
    codes: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl Run {
    /// Fuzzes `method` on a blocking thread; a failure as a readable line.
    fn method(&self, method: &Method, handle: &tokio::runtime::Handle) -> Option<String> {
        let seed = seed(&method.name, &self.world)
            .unwrap_or_else(|| panic!("{} has no request generator in seeds.rs", method.name));
        let one = generate::requests(&method.input, seed, &self.ids);
        let strategy = if method.client_streaming {
            vec(one, 1..4).boxed()
        } else {
            one.prop_map(|m| vec![m]).boxed()
        };
        let config = Config {
            cases: cases(),
            failure_persistence: None,
            max_shrink_iters: 64,
            ..Config::default()
        };
        let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let panics_before = PANICS.load(Ordering::SeqCst);
        let outcome = runner.run(&strategy, |messages| {
            self.inputs.fetch_add(1, Ordering::Relaxed);
            let sent = messages.into_iter().map(Bytes::from).collect();
            let answer = handle.block_on(self.caller.call(method, sent));
            let code = answer.as_ref().err().map_or(Code::Ok, |s| s.code());
            *self
                .codes
                .lock()
                .unwrap()
                .entry(format!("{code:?}"))
                .or_default() += 1;
            match answer {
                Err(s) if server_fault(s.code()) => Err(TestCaseError::fail(format!(
                    "{:?}: {}",
                    s.code(),
                    s.message()
                ))),
                _ if PANICS.load(Ordering::SeqCst) > panics_before => {
                    Err(TestCaseError::fail("the server panicked"))
                }
                _ => Ok(()),
            }
        });
        match outcome {
            Ok(()) => None,
            Err(TestError::Fail(why, messages)) => {
                let shown: Vec<String> = messages
                    .iter()
                    .map(|m| generate::describe(&method.input, m))
                    .collect();
                Some(format!("{}: {why}\n    input: {shown:?}", method.name))
            }
            Err(TestError::Abort(why)) => Some(format!("{}: aborted: {why}", method.name)),
        }
    }
}

async fn fuzz_every_rpc(backend: Backend) {
    count_panics();
    let suite = all_in_one::serving(testing::config(backend).await).await;
    let (tenant, key) = all_in_one::tenant(&suite, "fuzz").await;
    let url = suite.url();
    let mut clients = all_in_one::clients(&suite, &key);
    let world = World::create(&mut clients, &url, &key, "fz").await;
    world
        .dead_letter(&url, &suite.app.internal, tenant.id)
        .await;
    let mut ids = world.private();
    ids.extend([
        world.template.clone(),
        world.identity.external_id.clone(),
        world.customers_page.clone(),
        uuid::Uuid::new_v4().to_string(),
    ]);
    let run = Arc::new(Run {
        caller: Caller::new(&url, &key, Duration::from_secs(20)),
        world,
        ids,
        inputs: Arc::default(),
        codes: Arc::default(),
    });
    let all = methods_deletions_last();
    let started = Instant::now();
    let handle = tokio::runtime::Handle::current();
    let (each, rpcs) = (run.clone(), all.len());
    let failures: Vec<String> = tokio::task::spawn_blocking(move || {
        all.iter().filter_map(|m| each.method(m, &handle)).collect()
    })
    .await
    .unwrap();
    let inputs = run.inputs.load(Ordering::Relaxed);
    println!(
        "FUZZ inputs={inputs} rpcs={rpcs} backend={backend:?} seconds={:.1} answers={:?}",
        started.elapsed().as_secs_f64(),
        run.codes.lock().unwrap()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked");
    // Still up and serving, and still answering a tenant.
    suite.wait_ready(Duration::from_secs(10)).await.unwrap();
    let request = rapport_proto::v1::ListCustomersRequest::default();
    testing::ok(clients.profiles.list_customers(request)).await;
    suite.stop().await.unwrap();
}

rapport_kit::backend_tests!(fuzz_every_rpc);
