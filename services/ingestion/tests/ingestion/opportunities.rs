//! Opportunities: events stored once and validated per row, state folded in
//! occurred_at order whatever the arrival order, and the refit job's
//! probabilities and roll-ups against a hand computation (the history of
//! `rapport_science::pipeline`'s tests, whose comment works it through).

use chrono::{Duration, Utc};
use rapport_kit::{domain::chrono_to_timestamp, internal::BearerAuth, testing::Backend};
use rapport_proto::v1::{
    ExternalIdentity, GetOpportunityRequest, GetPipelineRequest, IngestOpportunityEventsRequest,
    ListOpportunitiesRequest, Money, OpportunityEvent, OpportunityEventKind as K,
    OpportunityStatus, PipelineLevel, opportunities_service_client::OpportunitiesServiceClient,
};

use crate::support::{FakeScoring, Harness, eventually};

rapport_kit::backend_tests!(refit_scores_and_rolls_up_as_computed_by_hand);

fn event(
    n: &mut u32,
    account: &str,
    opp: &str,
    kind: K,
    stage: &str,
    day: f64,
    amount: Option<i64>,
) -> OpportunityEvent {
    *n += 1;
    let at = Utc::now() - Duration::days(45) + Duration::milliseconds((day * 86_400_000.0) as i64);
    OpportunityEvent {
        source: "crm".into(),
        external_id: format!("E-{n}"),
        customer: Some(ExternalIdentity {
            source: String::new(),
            external_id: account.into(),
        }),
        opportunity_id: opp.into(),
        kind: kind as i32,
        stage: stage.into(),
        amount: amount.map(|minor_units| Money {
            currency_code: "EUR".into(),
            minor_units,
        }),
        occurred_at: Some(chrono_to_timestamp(at)),
        ..Default::default()
    }
}

/// The science tests' history (deals 1-6, day 0 = 45 days ago; deal 6
/// starts at day 19, so it has been in proposal 25 days), plus deal 7 of
/// account C, in qualify since just now.
fn history() -> Vec<OpportunityEvent> {
    let n = &mut 0;
    let mut e = Vec::new();
    let mut deal = |e: &mut Vec<_>,
                    acct: &str,
                    opp: &str,
                    path: &[(&str, f64)],
                    end: Option<(K, f64)>,
                    amount: i64| {
        for (i, (stage, day)) in path.iter().enumerate() {
            let (kind, amt) = if i == 0 {
                (K::Created, Some(amount))
            } else {
                (K::StageChanged, None)
            };
            e.push(event(n, acct, opp, kind, stage, *day, amt));
        }
        if let Some((kind, day)) = end {
            e.push(event(n, acct, opp, kind, "", day, None));
        }
    };
    deal(
        &mut e,
        "A",
        "O-1",
        &[("qualify", 0.), ("proposal", 5.), ("negotiate", 15.)],
        Some((K::Won, 25.)),
        5_000,
    );
    deal(
        &mut e,
        "A",
        "O-2",
        &[("qualify", 0.), ("proposal", 4.)],
        Some((K::Lost, 34.)),
        1_000,
    );
    deal(
        &mut e,
        "A",
        "O-3",
        &[("qualify", 0.)],
        Some((K::Lost, 10.)),
        1_000,
    );
    deal(
        &mut e,
        "B",
        "O-4",
        &[
            ("qualify", 0.),
            ("proposal", 2.),
            ("negotiate", 7.),
            ("proposal", 10.),
            ("negotiate", 18.),
        ],
        Some((K::Won, 30.)),
        7_000,
    );
    deal(
        &mut e,
        "B",
        "O-5",
        &[("qualify", 0.), ("proposal", 3.), ("negotiate", 23.)],
        Some((K::Lost, 40.)),
        1_000,
    );
    deal(
        &mut e,
        "A",
        "O-6",
        &[("qualify", 19.), ("proposal", 20.)],
        None,
        10_000,
    );
    deal(&mut e, "C", "O-7", &[("qualify", 44.999)], None, 12_000);
    e
}

async fn refit_scores_and_rolls_up_as_computed_by_hand(backend: Backend) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let h = Harness::with_refits(backend, listener.local_addr().unwrap()).await;
    let scoring = FakeScoring::start(&h.token(), listener);
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut c = OpportunitiesServiceClient::with_interceptor(
        h.ts.channel(),
        BearerAuth::new(&key).unwrap(),
    );
    let parent = h.profiles.add_customer(tenant.id);
    let a = h.profiles.add_identity(tenant.id, "crm", "A", Some(parent));
    let b = h.profiles.add_identity(tenant.id, "crm", "B", None);
    let cc = h.profiles.add_identity(tenant.id, "crm", "C", Some(parent));
    for id in [a, b] {
        scoring
            .tiers
            .lock()
            .unwrap()
            .insert((tenant.id, id.to_string()), "gold".into());
    }

    // Out of order, and twice: the second time every row is a duplicate.
    let mut events = history();
    events.reverse();
    let total = events.len() as u32;
    let first = c
        .ingest_opportunity_events(IngestOpportunityEventsRequest {
            events: events.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (first.accepted, first.duplicates, first.rejected.len()),
        (total, 0, 0),
        "{first:?}"
    );
    let again = c
        .ingest_opportunity_events(IngestOpportunityEventsRequest { events })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.accepted, again.duplicates), (0, total));

    // Bad rows name each field; nothing of them is stored.
    let mut n = 100;
    let mut bad = event(&mut n, "A", "", K::Unspecified, "", 0., Some(-1));
    bad.amount.as_mut().unwrap().currency_code = "USD".into();
    let r = c
        .ingest_opportunity_events(IngestOpportunityEventsRequest { events: vec![bad] })
        .await
        .unwrap()
        .into_inner();
    let fields: Vec<_> = r.rejected.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "events[0].opportunity_id",
            "events[0].kind",
            "events[0].amount"
        ]
    );
    assert_eq!(h.count("opportunity_events").await, i64::from(total));

    let pipeline = |level: PipelineLevel| GetPipelineRequest {
        level: level as i32,
        page_size: 10,
        page_token: String::new(),
    };
    eventually("a refit covering every event", || {
        let mut c = c.clone();
        async move {
            let p = c
                .get_pipeline(pipeline(PipelineLevel::Tier))
                .await
                .unwrap()
                .into_inner();
            p.model.is_some_and(|m| !m.pending && m.fitted_at.is_some())
        }
    })
    .await;

    let model = c
        .get_pipeline(pipeline(PipelineLevel::Tier))
        .await
        .unwrap()
        .into_inner()
        .model
        .unwrap();
    assert_eq!(
        (model.won, model.lost, model.thin_history.as_str()),
        (2, 3, "")
    );
    let p = |s: &str| {
        model
            .stages
            .iter()
            .find(|x| x.stage == s)
            .unwrap()
            .win_probability
    };
    assert!((p("negotiate") - 5.0 / 8.0).abs() < 1e-9 && (p("proposal") - 0.5).abs() < 1e-9);
    assert!((p("qualify") - 5.0 / 12.0).abs() < 1e-9);

    let o6 = c
        .get_opportunity(GetOpportunityRequest {
            opportunity: Some(ExternalIdentity {
                source: "crm".into(),
                external_id: "O-6".into(),
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert!(
        (o6.probability.unwrap() - 39.0 / 127.0).abs() < 1e-9,
        "{o6:?}"
    );
    assert_eq!(o6.expected_value.unwrap().minor_units, 3_071);
    let e = o6.explanation.unwrap();
    assert_eq!((e.stays_as_long, e.account_won, e.account_lost), (1, 1, 2));
    // Times are kept to the microsecond (the embedded store's unit).
    assert!((e.typical_days - 10.0).abs() < 1e-6, "{}", e.typical_days);

    // Deal 4 went back and forth and won at the end, whatever the arrival order.
    let list = c
        .list_opportunities(ListOpportunitiesRequest {
            status: OpportunityStatus::Open as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .opportunities;
    let open: Vec<_> = list
        .iter()
        .map(|o| {
            (
                o.opportunity.clone().unwrap().external_id,
                o.expected_value.clone().unwrap().minor_units,
            )
        })
        .collect();
    assert_eq!(open, [("O-7".to_owned(), 5_000), ("O-6".to_owned(), 3_071)]);
    let o4 = c
        .get_opportunity(GetOpportunityRequest {
            opportunity: Some(ExternalIdentity {
                source: "crm".into(),
                external_id: "O-4".into(),
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(
        (o4.status, o4.stage.as_str()),
        (OpportunityStatus::Won as i32, "negotiate")
    );

    // Roll-ups: (key, accounts, open, open amount, EV, won, won amount, lost).
    let rows = |level| {
        let mut c = c.clone();
        async move {
            let r = c
                .get_pipeline(pipeline(level))
                .await
                .unwrap()
                .into_inner()
                .rows;
            r.into_iter()
                .map(|r| {
                    (
                        r.key,
                        r.accounts,
                        r.open_count,
                        r.open_amount.unwrap().minor_units,
                        r.expected_value.unwrap().minor_units,
                        r.won_count,
                        r.won_amount.unwrap().minor_units,
                        r.lost_count,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let (a, b, cc, parent) = (
        a.to_string(),
        b.to_string(),
        cc.to_string(),
        parent.to_string(),
    );
    assert_eq!(
        rows(PipelineLevel::Account).await,
        [
            (cc, 1, 1, 12_000, 5_000, 0, 0, 0),
            (a, 1, 1, 10_000, 3_071, 1, 5_000, 2),
            (b.clone(), 1, 0, 0, 0, 1, 7_000, 1),
        ]
    );
    assert_eq!(
        rows(PipelineLevel::Parent).await,
        [
            (parent, 2, 2, 22_000, 8_071, 1, 5_000, 2),
            ("none".to_owned(), 1, 0, 0, 0, 1, 7_000, 1),
        ]
    );
    assert_eq!(
        rows(PipelineLevel::Tier).await,
        [
            ("none".to_owned(), 1, 1, 12_000, 5_000, 0, 0, 0),
            ("gold".to_owned(), 2, 1, 10_000, 3_071, 2, 12_000, 3),
        ]
    );

    // Erasing account B removes its opportunities and its roll-up row at
    // once, and asks for a refit, after which the tier no longer counts it.
    let mut internal =
        rapport_proto::v1::ingestion_service_client::IngestionServiceClient::new(h.ts.channel());
    let erase = h.ts.app.internal.request(
        tenant.id,
        None,
        rapport_proto::v1::EraseCustomerActivityRequest {
            customer_id: b.clone(),
            erasure_id: uuid::Uuid::now_v7().to_string(),
        },
    );
    internal.erase_customer_activity(erase).await.unwrap();
    let accounts: Vec<String> = rows(PipelineLevel::Account)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert!(!accounts.contains(&b), "{accounts:?}");
    eventually("a refit after the erasure", || {
        let rows = rows(PipelineLevel::Tier);
        async move {
            rows.await
                .iter()
                .any(|r| r.0 == "gold" && (r.1, r.5, r.6, r.7) == (1, 1, 5_000, 2))
        }
    })
    .await;
    h.stop().await;
}
