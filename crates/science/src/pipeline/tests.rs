//! The model against a hand computation on a small history.
//!
//! Times in days. Three stages: qualify (Q), proposal (P), negotiate (N).
//!
//! | deal | account | path (entered at)                     | outcome    |
//! |------|---------|---------------------------------------|------------|
//! | 1    | A       | Q@0 P@5 N@15                          | won @25    |
//! | 2    | A       | Q@0 P@4                               | lost @34   |
//! | 3    | A       | Q@0                                   | lost @10   |
//! | 4    | B       | Q@0 P@2 N@7 P@10 N@18 (goes back)     | won @30    |
//! | 5    | B       | Q@0 P@3 N@23                          | lost @40   |
//! | 6    | A       | Q@0 P@1                               | open       |
//!
//! Exits: Q → P 5 (deals 1, 2, 4, 5, 6), Q → lost 1 (3): 6.
//! P → N 4 (1, 4 twice, 5), P → lost 1 (2); deal 6's stay is censored: 5.
//! N → won 2 (1, 4), N → P 1 (4), N → lost 1 (5): 4.
//!
//! b_Q = 5/6 b_P;  b_P = 4/5 b_N;  b_N = 2/4 + 1/4 b_P
//! ⇒ b_N = 1/2 + b_N/5 ⇒ b_N = 5/8, b_P = 1/2, b_Q = 5/12.
//! Tenant: 2 won, 3 lost, π = 2/5.
//!
//! Stay lengths: Q 5, 4, 10, 2, 3, 1 (median (3+4)/2 = 3.5);
//! P 10, 30, 5, 8, 20 (median 10); N 10, 3, 12, 17 (median 11).
//!
//! Deal 6, in P for 25 days (now = 26): one past P stay lasted ≥ 25 (deal
//! 2's 30 days, to lost: value 0). With m = 2: (0 + 2·½) / (1 + 2) = 1/3.
//! Account A closed 1 won, 2 lost; κ = 4: rate (1 + 4·⅖)/(3 + 4) = 2.6/7,
//! odds 2.6/4.4; tenant odds ⅖/⅗ = ⅔; factor (2.6/4.4)/(2/3) = 39/44.
//! Odds ½ · 39/44 = 39/88 ⇒ p = 39/127.

use super::*;

fn stays(path: &[(&str, f64)]) -> Vec<Stay> {
    path.iter()
        .map(|(s, at)| Stay {
            stage: (*s).to_owned(),
            entered: *at,
        })
        .collect()
}

fn history() -> Vec<Deal> {
    let deal = |path: &[(&str, f64)], outcome| Deal {
        stays: stays(path),
        outcome,
    };
    vec![
        deal(
            &[("qualify", 0.), ("proposal", 5.), ("negotiate", 15.)],
            Outcome::Won(25.),
        ),
        deal(&[("qualify", 0.), ("proposal", 4.)], Outcome::Lost(34.)),
        deal(&[("qualify", 0.)], Outcome::Lost(10.)),
        deal(
            &[
                ("qualify", 0.),
                ("proposal", 2.),
                ("negotiate", 7.),
                ("proposal", 10.),
                ("negotiate", 18.),
            ],
            Outcome::Won(30.),
        ),
        deal(
            &[("qualify", 0.), ("proposal", 3.), ("negotiate", 23.)],
            Outcome::Lost(40.),
        ),
        deal(&[("qualify", 0.), ("proposal", 1.)], Outcome::Open),
    ]
}

fn options(min_closed: u32) -> PipelineOptions {
    PipelineOptions {
        min_closed,
        age_prior: 2.0,
        account_prior: 4.0,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn absorption_probabilities_match_the_hand_computation() {
    let m = PipelineModel::fit(&history(), options(5));
    assert_eq!((m.won, m.lost), (2, 3));
    assert!(close(m.win_rate, 0.4));
    assert_eq!(m.thin, None);
    let figures: Vec<_> = m
        .stages
        .iter()
        .map(|s| {
            (
                s.stage.as_str(),
                s.exits,
                s.exits_won,
                s.exits_lost,
                s.typical,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("negotiate", 4, 2, 1, 11.0),
            ("proposal", 5, 0, 1, 10.0),
            ("qualify", 6, 0, 1, 3.5)
        ]
    );
    let b = |s: &str| m.stage(s).unwrap().win_probability;
    assert!(close(b("negotiate"), 5.0 / 8.0), "{}", b("negotiate"));
    assert!(close(b("proposal"), 0.5), "{}", b("proposal"));
    assert!(close(b("qualify"), 5.0 / 12.0), "{}", b("qualify"));
    assert!(m.stages.iter().all(|s| !s.fallback));
}

#[test]
fn an_open_deal_is_adjusted_for_age_and_account() {
    let m = PipelineModel::fit(&history(), options(5));
    let a = m.assess("proposal", 25.0, AccountRecord { won: 1, lost: 2 });
    assert_eq!(a.stays_as_long, 1);
    assert!(close(a.stage_probability, 0.5));
    assert!(close(a.typical, 10.0));
    assert!(close(a.age_adjusted, 1.0 / 3.0), "{}", a.age_adjusted);
    assert!(close(a.account_rate, 2.6 / 7.0));
    assert!(close(a.account_factor, 39.0 / 44.0), "{}", a.account_factor);
    assert!(close(a.probability.unwrap(), 39.0 / 127.0), "{a:?}");
}

#[test]
fn no_age_and_no_account_history_leave_the_stage_probability() {
    let m = PipelineModel::fit(&history(), options(5));
    // All six Q stays count at age 0: (2.5 + 2·5/12) / 8 = 5/12.
    let a = m.assess("qualify", 0.0, AccountRecord::default());
    assert_eq!(a.stays_as_long, 6);
    assert!(close(a.probability.unwrap(), 5.0 / 12.0), "{a:?}");
    // Older than every past stay: the stage's probability, not a guess.
    let a = m.assess("negotiate", 100.0, AccountRecord::default());
    assert!(close(a.probability.unwrap(), 5.0 / 8.0), "{a:?}");
}

#[test]
fn unknown_stages_and_loops_fall_back_to_the_win_rate() {
    let mut deals = history();
    // x and y only ever move into each other: no path to a close.
    deals.push(Deal {
        stays: stays(&[("x", 0.), ("y", 1.), ("x", 2.)]),
        outcome: Outcome::Open,
    });
    let m = PipelineModel::fit(&deals, options(5));
    for s in ["x", "y"] {
        let s = m.stage(s).unwrap();
        assert!(s.fallback && close(s.win_probability, 0.4), "{s:?}");
    }
    // The known stages are unchanged by them.
    assert!(close(
        m.stage("qualify").unwrap().win_probability,
        5.0 / 12.0
    ));
    let a = m.assess("demo", 3.0, AccountRecord::default());
    assert!(
        a.stage_fallback && close(a.probability.unwrap(), 0.4),
        "{a:?}"
    );
}

#[test]
fn thin_history_gives_no_probabilities_and_says_why() {
    let m = PipelineModel::fit(&history(), options(6));
    let reason = m.thin.clone().unwrap();
    assert!(
        reason.contains("only 5 closed") && reason.contains("at least 6"),
        "{reason}"
    );
    let a = m.assess("proposal", 25.0, AccountRecord { won: 1, lost: 2 });
    assert_eq!(a.probability, None);
    // The figures behind it are still there to show.
    assert!(close(a.stage_probability, 0.5));

    let only_won = vec![Deal {
        stays: stays(&[("qualify", 0.)]),
        outcome: Outcome::Won(1.),
    }];
    let m = PipelineModel::fit(&only_won, options(1));
    assert!(m.thin.unwrap().contains("both outcomes"));
    let m = PipelineModel::fit(&[], options(1));
    assert!(m.stages.is_empty() && m.thin.is_some() && m.win_rate == 0.0);
}
