//! The reference reconnecting client. So far only its pure backoff sampler: the delay before each
//! reconnect attempt, drawn from the client's seeded generator.

pub mod backoff;
