//! The fault suite: the four services as separate processes on real
//! Postgres and Redis, with a process or an engine killed or stopped while
//! work is in flight. Each test prints its figures as `FAULT <name>: ...`
//! lines. CI runs small sizes and short outages; `FAULTS_FULL=1`
//! runs the full ones (a 100,000-row import, a 3-minute Profiles outage).
#![forbid(unsafe_code)]

mod data;
mod kill;
mod postgres;
mod profiles;
mod redis;
mod roles;
mod stored;
mod support;
