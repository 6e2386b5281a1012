//! B2B pipeline: a per-tenant stage-transition model of opportunities.
//!
//! **Fit.** Each opportunity is a sequence of stays in stages, ending won,
//! lost or still open. Every stay that ended is an exit: to the next stage
//! (stages may repeat or go back), to won, or to lost; an open opportunity's
//! current stay is censored and counts nothing. The exits give an absorbing
//! Markov chain: `Q[i][j]` the share of stage `i`'s exits going to stage
//! `j`, `r[i]` the share going to won. The probability that an opportunity
//! in stage `i` ends won is `b = (I − Q)⁻¹ r`. Stages that nothing has left,
//! or from which no path reaches won or lost, have no such figure; they get
//! the tenant's win rate (won / closed), and say so.
//!
//! **Age in stage.** Each ended stay has a length and a value: 1 if it went
//! to won, 0 to lost, `b[j]` to stage `j`. The mean value of all stays in a
//! stage is exactly `b` of the stage (that is what the chain says), so the
//! value of the stays that lasted at least as long as an open opportunity's
//! current stay is the stage's probability given its age. Few stays last
//! long, so that mean is shrunk toward `b` with a prior worth
//! [`PipelineOptions::age_prior`] stays: `(Σ values + m·b) / (n + m)`. With
//! no age this is `b` itself; an opportunity older than every past stay gets
//! `b`, not a guess.
//!
//! **Account.** The account's own closed opportunities give a Beta-shrunk
//! win rate `(w + κπ) / (w + l + κ)`, `π` the tenant's win rate and `κ`
//! [`PipelineOptions::account_prior`]. Its odds against the tenant's odds
//! are a factor on the opportunity's odds, so an account with no history
//! (or an average one) changes nothing.
//!
//! **Thin history.** With fewer than [`PipelineOptions::min_closed`] closed
//! opportunities, or none won or none lost, the model gives no
//! probabilities and says why.

use std::collections::BTreeMap;

mod solve;
#[cfg(test)]
mod tests;

/// How an opportunity ended, times in the caller's unit (days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Not closed yet.
    Open,
    /// Won at this time.
    Won(f64),
    /// Lost at this time.
    Lost(f64),
}

/// One stay in a stage: its name and when it began.
#[derive(Debug, Clone, PartialEq)]
pub struct Stay {
    /// The stage.
    pub stage: String,
    /// When the opportunity entered it.
    pub entered: f64,
}

/// One opportunity's history: its stays in order (consecutive stays in one
/// stage already merged) and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    /// The stays, oldest first; may be empty (closed without a stage).
    pub stays: Vec<Stay>,
    /// How it ended.
    pub outcome: Outcome,
}

/// Prior strengths and the thin-history bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineOptions {
    /// Closed opportunities needed before the model gives probabilities.
    pub min_closed: u32,
    /// Weight, in past stays, of the stage's probability in the age adjustment.
    pub age_prior: f64,
    /// Weight, in closed opportunities, of the tenant's win rate in an
    /// account's shrunk win rate.
    pub account_prior: f64,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            min_closed: 20,
            age_prior: 2.0,
            account_prior: 4.0,
        }
    }
}

/// What the model learnt about one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageModel {
    /// The stage's name.
    pub stage: String,
    /// Stays that ended, by where they went.
    pub exits: u32,
    /// Of those, to won.
    pub exits_won: u32,
    /// Of those, to lost.
    pub exits_lost: u32,
    /// Probability of ending won from this stage.
    pub win_probability: f64,
    /// Whether `win_probability` is the tenant's win rate standing in (no
    /// exits seen, or no path to a close).
    pub fallback: bool,
    /// Median length of the ended stays; 0 when none ended.
    pub typical: f64,
    /// Ended stays as (length, value), longest first.
    stays: Vec<(f64, f64)>,
}

/// A fitted pipeline model.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineModel {
    /// The stages, by name.
    pub stages: Vec<StageModel>,
    /// Closed opportunities won and lost.
    pub won: u32,
    /// Closed opportunities lost.
    pub lost: u32,
    /// won / (won + lost); 0 with none closed.
    pub win_rate: f64,
    /// Why no probabilities are given, when the history is too thin.
    pub thin: Option<String>,
    options: PipelineOptions,
}

/// An account's closed opportunities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountRecord {
    /// Won.
    pub won: u32,
    /// Lost.
    pub lost: u32,
}

/// An open opportunity's probability and the figures behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Probability of ending won; `None` while the history is thin.
    pub probability: Option<f64>,
    /// The stage's own probability.
    pub stage_probability: f64,
    /// Whether the stage's probability is the tenant's win rate standing in.
    pub stage_fallback: bool,
    /// Time in the current stage.
    pub age: f64,
    /// The stage's median stay.
    pub typical: f64,
    /// Past stays in the stage at least as long.
    pub stays_as_long: u32,
    /// After the age adjustment.
    pub age_adjusted: f64,
    /// The account's shrunk win rate.
    pub account_rate: f64,
    /// The factor the account applies to the odds.
    pub account_factor: f64,
}

impl PipelineModel {
    /// Fits the model to `deals`.
    pub fn fit(deals: &[Deal], options: PipelineOptions) -> PipelineModel {
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for d in deals {
            for s in &d.stays {
                let next = names.len();
                names.entry(s.stage.as_str()).or_insert(next);
            }
        }
        // Indices in name order, so the output does not depend on input order.
        for (i, v) in names.values_mut().enumerate() {
            *v = i;
        }
        let n = names.len();
        let mut to_stage = vec![vec![0u32; n]; n];
        let (mut to_won, mut to_lost) = (vec![0u32; n], vec![0u32; n]);
        // Ended stays as (stage, length, where to: Some(stage), or None with won).
        let mut ended: Vec<(usize, f64, Exit)> = Vec::new();
        let (mut won, mut lost) = (0u32, 0u32);
        for d in deals {
            match d.outcome {
                Outcome::Won(_) => won += 1,
                Outcome::Lost(_) => lost += 1,
                Outcome::Open => {}
            }
            for (k, s) in d.stays.iter().enumerate() {
                let i = names[s.stage.as_str()];
                let (exit, left) = match (d.stays.get(k + 1), d.outcome) {
                    (Some(next), _) => (Exit::Stage(names[next.stage.as_str()]), next.entered),
                    (None, Outcome::Won(at)) => (Exit::Won, at),
                    (None, Outcome::Lost(at)) => (Exit::Lost, at),
                    (None, Outcome::Open) => continue,
                };
                match exit {
                    Exit::Stage(j) => to_stage[i][j] += 1,
                    Exit::Won => to_won[i] += 1,
                    Exit::Lost => to_lost[i] += 1,
                }
                ended.push((i, (left - s.entered).max(0.0), exit));
            }
        }
        let win_rate = if won + lost > 0 {
            f64::from(won) / f64::from(won + lost)
        } else {
            0.0
        };
        let exits: Vec<u32> = (0..n)
            .map(|i| to_stage[i].iter().sum::<u32>() + to_won[i] + to_lost[i])
            .collect();
        let solved = solve::absorption(&to_stage, &to_won, &exits, win_rate);
        let b: Vec<f64> = solved.iter().map(|p| p.unwrap_or(win_rate)).collect();
        let mut stays: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
        for (i, length, exit) in ended {
            let value = match exit {
                Exit::Stage(j) => b[j],
                Exit::Won => 1.0,
                Exit::Lost => 0.0,
            };
            stays[i].push((length, value));
        }
        let stages = names
            .iter()
            .map(|(name, &i)| {
                let mut s = std::mem::take(&mut stays[i]);
                s.sort_by(|a, b| b.0.total_cmp(&a.0));
                StageModel {
                    stage: (*name).to_owned(),
                    exits: exits[i],
                    exits_won: to_won[i],
                    exits_lost: to_lost[i],
                    win_probability: b[i],
                    fallback: solved[i].is_none(),
                    typical: median(s.iter().map(|x| x.0)),
                    stays: s,
                }
            })
            .collect();
        let thin = thin_reason(won, lost, options.min_closed);
        PipelineModel {
            stages,
            won,
            lost,
            win_rate,
            thin,
            options,
        }
    }

    /// The figures of `stage`, if any opportunity was ever in it.
    pub fn stage(&self, stage: &str) -> Option<&StageModel> {
        self.stages
            .binary_search_by(|s| s.stage.as_str().cmp(stage))
            .ok()
            .map(|i| &self.stages[i])
    }

    /// Assesses an open opportunity in `stage` for `age` so far, of an
    /// account with `account`'s record.
    pub fn assess(&self, stage: &str, age: f64, account: AccountRecord) -> Assessment {
        let age = age.max(0.0);
        let (base, fallback, typical, long, sum) = match self.stage(stage) {
            Some(s) => {
                let long: Vec<_> = s.stays.iter().take_while(|x| x.0 >= age).collect();
                let sum: f64 = long.iter().map(|x| x.1).sum();
                (s.win_probability, s.fallback, s.typical, long.len(), sum)
            }
            None => (self.win_rate, true, 0.0, 0, 0.0),
        };
        let m = self.options.age_prior;
        let age_adjusted = (sum + m * base) / (long as f64 + m);
        let k = self.options.account_prior;
        let pi = self.win_rate;
        let account_rate =
            (f64::from(account.won) + k * pi) / (f64::from(account.won + account.lost) + k);
        // With a tenant rate of 0 or 1 odds are undefined; the model is thin
        // then anyway, and the account changes nothing.
        let account_factor = if pi > 0.0 && pi < 1.0 {
            odds(account_rate) / odds(pi)
        } else {
            1.0
        };
        let adjusted = if age_adjusted > 0.0 && age_adjusted < 1.0 {
            let o = odds(age_adjusted) * account_factor;
            o / (1.0 + o)
        } else {
            age_adjusted
        };
        Assessment {
            probability: self.thin.is_none().then_some(adjusted),
            stage_probability: base,
            stage_fallback: fallback,
            age,
            typical,
            stays_as_long: long as u32,
            age_adjusted,
            account_rate,
            account_factor,
        }
    }
}

/// Where an ended stay went.
#[derive(Debug, Clone, Copy)]
enum Exit {
    Stage(usize),
    Won,
    Lost,
}

fn odds(p: f64) -> f64 {
    p / (1.0 - p)
}

fn thin_reason(won: u32, lost: u32, min_closed: u32) -> Option<String> {
    if won + lost < min_closed {
        Some(format!(
            "only {} closed opportunities ({won} won, {lost} lost); at least {min_closed} are needed",
            won + lost
        ))
    } else if won == 0 || lost == 0 {
        Some(format!(
            "{won} won and {lost} lost: a win rate needs both outcomes"
        ))
    } else {
        None
    }
}

/// The median of `values` (mean of the middle two for an even count); 0 for none.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}
