//! The values a customer's rules are evaluated against: the enriched
//! score, the behaviour flags, the profile (read only when a rule needs it),
//! the tags, the loyalty points (read only when a rule needs them) and
//! today; `event` is bound per event.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rapport_kit::tenants::Tenant;
use rapport_proto::v1::Score;
use rapport_rules::Value;
use uuid::Uuid;

use crate::{
    aggregates::rule_work::EventFacts,
    error::{Error, storage},
    rules::{
        Rules,
        env::{self, Bindings},
        lists::Lists,
    },
};

impl Rules {
    /// Everything but `event`, for one customer.
    pub async fn bindings(
        &self,
        tenant: &Tenant,
        score: &Score,
        profile: bool,
        points: bool,
        now: DateTime<Utc>,
    ) -> Result<Bindings, Error> {
        let customer = Uuid::parse_str(&score.customer_id)
            .map_err(|e| Error::Internal(anyhow::anyhow!("score customer id: {e}")))?;
        let (score_v, change_v) = env::score_values(score, tenant.currency.exponent(), now);
        let marks = self
            .evaluation
            .marks(tenant.id, customer)
            .await
            .map_err(storage("rule evaluation"))?;
        let (kind, attributes) = if profile {
            self.profiles.customer(tenant.id, customer).await?
        } else {
            (String::new(), BTreeMap::new())
        };
        let lists = self.lists.get(tenant.id).await?.of(customer);
        let points = match points {
            true => self.points(tenant.id, &[customer], now).await?,
            false => HashMap::new(),
        };
        Ok(bind(
            score_v,
            change_v,
            env::customer_value(&kind, &marks.tags, &lists, &attributes),
            points.get(&customer).copied().unwrap_or_default(),
            now,
        ))
    }

    /// The balance and the points expiring within 30 days of each of
    /// `customers` that has points.
    pub async fn points(
        &self,
        tenant: Uuid,
        customers: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Uuid, (i64, i64)>, Error> {
        let read = self
            .scores
            .loyalty
            .repo
            .balances(tenant, customers, now)
            .await;
        Ok(read
            .map_err(storage("points balance"))?
            .into_iter()
            .map(|(c, balance, expiring)| (c, (balance, expiring)))
            .collect())
    }

    /// The same without reading anything: the tags the score carries, the
    /// `lists` and `points` given, no profile. For passes over many
    /// customers whose rules read no profile.
    pub fn bindings_of_score(
        tenant: &Tenant,
        score: &Score,
        lists: &Lists,
        points: (i64, i64),
        now: DateTime<Utc>,
    ) -> Bindings {
        let (score_v, change_v) = env::score_values(score, tenant.currency.exponent(), now);
        let on = Uuid::parse_str(&score.customer_id).map_or_else(|_| Vec::new(), |c| lists.of(c));
        bind(
            score_v,
            change_v,
            env::customer_value("", &score.tags, &on, &BTreeMap::new()),
            points,
            now,
        )
    }
}

fn bind(
    score: Value,
    change: Value,
    customer: Value,
    points: (i64, i64),
    now: DateTime<Utc>,
) -> Bindings {
    let mut b = BTreeMap::new();
    b.insert("score", score);
    b.insert("change", change);
    b.insert("customer", customer);
    b.insert("points", env::points_value(points.0, points.1));
    b.insert("event", EventFacts::default().value());
    b.insert("today", env::today_value(now));
    Bindings(b)
}
