//! GetScore under load while a test breaks something: callers read scores
//! in a loop, and every answer is counted by what a caller would see.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rapport_proto::v1::{
    GetScoreRequest, ScoreSource, scoring_service_client::ScoringServiceClient,
};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::internal::BearerAuth;

/// A scoring client acting for one tenant.
pub type ScoringClient = ScoringServiceClient<InterceptedService<Channel, BearerAuth>>;

/// Callers reading scores until their time is up.
pub struct ScoreLoad {
    answers: Arc<Mutex<BTreeMap<String, usize>>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// How many calls got each answer: `OK SCORE_SOURCE_CACHE`, `OK
/// SCORE_SOURCE_DATABASE`, `no score`, or an error's code and message.
#[derive(Debug, Clone, Default)]
pub struct Answers(pub BTreeMap<String, usize>);

impl Answers {
    /// Every call made.
    pub fn calls(&self) -> usize {
        self.0.values().sum()
    }

    /// Calls not answered with a score.
    pub fn failed(&self) -> usize {
        let answered: usize = (self.0.iter())
            .filter(|(a, _)| a.starts_with("OK"))
            .map(|(_, n)| n)
            .sum();
        self.calls() - answered
    }
}

impl ScoreLoad {
    /// Starts `callers` tasks calling GetScore over `ids` in turn for
    /// `duration`.
    pub fn start(
        client: &ScoringClient,
        ids: Arc<Vec<String>>,
        callers: usize,
        duration: Duration,
    ) -> ScoreLoad {
        let answers = Arc::new(Mutex::new(BTreeMap::new()));
        let started = Instant::now();
        let workers = (0..callers)
            .map(|w| {
                let (mut client, ids, answers) = (client.clone(), ids.clone(), answers.clone());
                tokio::spawn(async move {
                    let mut i = w;
                    while started.elapsed() < duration {
                        let request = GetScoreRequest {
                            customer_id: ids[i % ids.len()].clone(),
                        };
                        let answer = match client.get_score(request).await {
                            Ok(r) if r.get_ref().score.is_some() => {
                                let source = ScoreSource::try_from(r.get_ref().source);
                                format!("OK {}", source.map_or("?", |s| s.as_str_name()))
                            }
                            Ok(_) => "no score".to_owned(),
                            Err(s) => format!("{:?}: {}", s.code(), s.message()),
                        };
                        *answers.lock().unwrap().entry(answer).or_insert(0) += 1;
                        i += 7;
                    }
                })
            })
            .collect();
        ScoreLoad { answers, workers }
    }

    /// Waits for the callers to finish; their answers.
    pub async fn finish(self) -> Answers {
        for w in self.workers {
            w.await.expect("a GetScore caller");
        }
        Answers(self.answers.lock().unwrap().clone())
    }
}
