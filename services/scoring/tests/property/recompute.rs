//! The recomputation: every field of a score from the transactions alone.

use super::*;

/// Half up, as the service rounds averages.
fn div_half_up(n: i64, d: i64) -> i64 {
    (2 * n as i128 + d as i128).div_euclid(2 * d as i128) as i64
}

fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(chrono_to_timestamp(t))
}

/// (net, margin, purchases) per month index.
type Months = BTreeMap<i32, (i64, i64, u32)>;

impl World<'_> {
    fn mine(&self, c: Uuid) -> Vec<&Txn> {
        self.txns.iter().filter(|t| t.customer == c).collect()
    }

    fn months(&self, c: Uuid) -> Months {
        let mut months = Months::new();
        for t in self.mine(c) {
            let m = months.entry(month(t.at)).or_default();
            m.0 += if t.purchase { t.amount } else { -t.amount };
            m.1 += margin(t);
            m.2 += u32::from(t.purchase);
        }
        months
    }

    /// Every score, with the RFM and tier fields still empty.
    pub fn recompute(&self, ids: &[Uuid]) -> Vec<Score> {
        ids.iter().map(|c| self.score(*c)).collect()
    }

    fn score(&self, c: Uuid) -> Score {
        let now = self.now;
        let mine = self.mine(c);
        let purchases: Vec<&&Txn> = mine.iter().filter(|t| t.purchase).collect();
        let refunds: Vec<&&Txn> = mine.iter().filter(|t| !t.purchase).collect();
        let bought: i64 = purchases.iter().map(|t| t.amount).sum();
        let refunded: i64 = refunds.iter().map(|t| t.amount).sum();
        let net = bought - refunded;
        let first = purchases.iter().map(|t| t.at).min();
        let last = purchases.iter().map(|t| t.at).max();
        let months = self.months(c);
        let recent: Vec<MonthlySpend> = months
            .iter()
            .rev()
            .take(12)
            .rev()
            .map(|(m, (net, _, n))| MonthlySpend {
                month: format!("{:04}-{:02}", m / 12, m % 12 + 1),
                net_spend: eur(*net),
                purchases: *n,
            })
            .collect();
        let active = first.map_or(1, |f| (month(now) - month(f) + 1).max(1)) as i64;
        let segment = match (first, last) {
            (Some(f), _) if now - f <= Duration::days(30) => "new",
            (_, Some(l)) if now - l <= Duration::days(90) => "active",
            (_, Some(l)) if now - l <= Duration::days(180) => "lapsing",
            (_, Some(_)) => "lapsed",
            _ => "none",
        };
        let visits = self.visits.get(&c);
        let mut score = Score {
            customer_id: c.to_string(),
            version: self.version.get(&c).copied().unwrap_or_default(),
            updated_at: None,
            first_purchase_at: first.and_then(ts),
            last_purchase_at: last.and_then(ts),
            purchase_count: purchases.len() as u64,
            refund_count: refunds.len() as u64,
            net_spend: eur(net),
            average_order_value: eur(if purchases.is_empty() {
                0
            } else {
                div_half_up(bought, purchases.len() as i64)
            }),
            average_monthly_spend: eur(div_half_up(net, active)),
            monthly_spend: recent,
            recency_days: last.map_or(0, |l| (now - l).num_days().max(0) as u32),
            last_interaction_at: visits.and_then(|v| v.iter().max().copied()).and_then(ts),
            interaction_count: visits.map_or(0, |v| v.len() as u64),
            segment: segment.into(),
            purchase_total: eur(bought),
            refund_total: eur(refunded),
            ..Score::default()
        };
        self.value(c, &mut score, &months, net);
        score
    }

    fn value(&self, c: Uuid, score: &mut Score, months: &Months, net: i64) {
        let as_of = Month::from_index(month(self.now));
        let mut value = rapport_proto::v1::ValueScores::default();
        let mut why = Vec::new();
        let txns: Vec<Transaction> = months
            .iter()
            .map(|(m, (_, margin, n))| Transaction {
                month: Month::from_index(*m),
                kind: if *n > 0 {
                    TransactionKind::Purchase
                } else {
                    TransactionKind::Refund
                },
                amount: 0.0,
                margin: Some(if *n > 0 { 1.0 } else { -1.0 } * (*margin as f64 / 100.0)),
                cost: None,
                category: None,
            })
            .collect();
        let rates = MarginRates::new(0.35).unwrap();
        let profit =
            rapport_science::profit_contribution(&txns, &rates, COST as f64 / 100.0, as_of)
                .unwrap();
        if let Some(p) = &profit {
            value.monthly_profit = eur(minor(p.trailing_12_month_average));
            let past: Vec<PastContribution> = p
                .months
                .iter()
                .map(|m| PastContribution {
                    periods_ago: as_of.months_since(m.month) as f64,
                    amount: m.contribution,
                })
                .collect();
            let rate = rapport_science::monthly_rate(RATE);
            value.past_value = eur(minor(
                rapport_science::past_customer_value(&past, rate).unwrap(),
            ));
            why.push("monthly_profit");
            why.push("past_value");
        }
        let today = population::day(self.now);
        let days = population::purchase_days(self.txns, c, today + 1);
        if let Some((h, mean)) = population::history(&days, today) {
            value.model = ModelKind::BgNbd as i32;
            value.model_version = self.fit_version;
            value.probability_alive = Some(self.bg.probability_alive(&h).unwrap());
            let e = |d: f64| Some(self.bg.conditional_expected_purchases(&h, d).unwrap());
            value.expected_purchases_30d = e(30.0);
            value.expected_purchases_90d = e(90.0);
            value.expected_purchases_365d = e(365.0);
            let order = self
                .gg
                .conditional_expected_value(h.frequency, mean.unwrap_or(0.0));
            value.expected_order_value = eur(minor(order));
            let margin_total: i64 = months.values().map(|m| m.1).sum();
            let margin_rate = if net > 0 {
                (margin_total as f64 / 100.0 / (net as f64 / 100.0)).clamp(0.0, 1.0)
            } else {
                0.35
            };
            let assumptions = ValueAssumptions {
                periods_per_month: periods_per_month::DAYS,
                horizon_months: HORIZON,
                annual_discount_rate: RATE,
                margin_rate,
            };
            let ltv = rapport_science::lifetime_value(&self.bg, &h, order, &assumptions).unwrap();
            value.lifetime_value = eur(minor(ltv.total));
            value.lifetime_value_by_month = ltv
                .months
                .iter()
                .map(|m| rapport_proto::v1::LifetimeValueMonth {
                    month: m.month,
                    value: eur(minor(m.present_value)),
                    expected_purchases: m.expected_purchases,
                })
                .collect();
            why.extend([
                "probability_alive",
                "expected_order_value",
                "lifetime_value",
            ]);
        }
        if let Some(estimate) = self.estimate.get(&c) {
            let spend: i64 = months
                .iter()
                .filter(|(m, _)| month(self.now) - **m < 12)
                .map(|(_, v)| v.0)
                .sum();
            value.share_of_wallet = rapport_science::share_of_wallet(
                spend as f64 / 100.0,
                Some(*estimate as f64 / 100.0),
            );
            why.push("share_of_wallet");
        }
        let activity: Vec<MonthlyActivity> = months
            .iter()
            .map(|(m, (net, _, n))| MonthlyActivity {
                month: Month::from_index(*m),
                purchases: *n,
                net_spend: *net as f64 / 100.0,
            })
            .collect();
        let change =
            rapport_science::assess_monthly(&activity, as_of, &BehaviourSettings::default())
                .unwrap();
        score.behaviour_flags = change
            .flags()
            .map(|(kind, s)| rapport_proto::v1::BehaviourFlag {
                kind: kind.into(),
                strength: s.strength,
                reason: s.reason.clone(),
            })
            .collect();
        score.explanations = why
            .into_iter()
            .map(|m| rapport_proto::v1::Explanation {
                measure: m.into(),
                ..Default::default()
            })
            .collect();
        score.value = Some(value);
    }

    /// RFM against the population's quintiles and tiers against the
    /// population's lifetime values, inserted where the service lists them.
    pub fn place_in_population(&self, scores: &mut [Score]) {
        let c = |s: &Score| s.net_spend.as_ref().unwrap().minor_units;
        let values: Vec<RfmValues> = scores
            .iter()
            .filter(|s| s.purchase_count > 0)
            .map(|s| RfmValues {
                recency_days: f64::from(s.recency_days),
                frequency: s.purchase_count as u32,
                monetary: c(s) as f64 / 100.0,
            })
            .collect();
        let breakpoints = Breakpoints::from_population(&values).unwrap();
        let totals: Vec<f64> = scores.iter().filter_map(|s| self.lifetime(s)).collect();
        let spec = [
            ("platinum", 0.95),
            ("gold", 0.8),
            ("silver", 0.5),
            ("bronze", 0.0),
        ];
        let tiers = TierThresholds::from_population(&spec, &totals).unwrap();
        for s in scores.iter_mut() {
            let mut why = Vec::new();
            if s.purchase_count > 0 {
                let v = RfmValues {
                    recency_days: f64::from(s.recency_days),
                    frequency: s.purchase_count as u32,
                    monetary: c(s) as f64 / 100.0,
                };
                let r = rapport_science::assess(&v, &breakpoints).unwrap();
                s.rfm = Some(rapport_proto::v1::Rfm {
                    recency: r.scores.recency.into(),
                    frequency: r.scores.frequency.into(),
                    monetary: r.scores.monetary.into(),
                    segment: r.segment.name().into(),
                });
                why.push(rapport_proto::v1::Explanation {
                    measure: "rfm".into(),
                    text: r.explanation.to_string(),
                    ..Default::default()
                });
            }
            why.append(&mut s.explanations);
            if let Some(total) = self.lifetime(s) {
                let t = tiers.assign(total).unwrap();
                s.tier = t.tier;
                why.push(rapport_proto::v1::Explanation {
                    measure: "tier".into(),
                    text: format!("lifetime value: {}", t.explanation),
                    ..Default::default()
                });
            }
            s.explanations = why;
        }
    }

    /// The unrounded lifetime value of a recomputed score, from scratch.
    fn lifetime(&self, s: &Score) -> Option<f64> {
        let c = Uuid::parse_str(&s.customer_id).ok()?;
        let today = population::day(self.now);
        let (h, mean) =
            population::history(&population::purchase_days(self.txns, c, today + 1), today)?;
        let months = self.months(c);
        let net = s.net_spend.as_ref()?.minor_units;
        let margin_total: i64 = months.values().map(|m| m.1).sum();
        let margin_rate = if net > 0 {
            (margin_total as f64 / 100.0 / (net as f64 / 100.0)).clamp(0.0, 1.0)
        } else {
            0.35
        };
        let order = self
            .gg
            .conditional_expected_value(h.frequency, mean.unwrap_or(0.0));
        let assumptions = ValueAssumptions {
            periods_per_month: periods_per_month::DAYS,
            horizon_months: HORIZON,
            annual_discount_rate: RATE,
            margin_rate,
        };
        Some(
            rapport_science::lifetime_value(&self.bg, &h, order, &assumptions)
                .ok()?
                .total,
        )
    }
}
