//! When a failed delivery is tried again: a configurable schedule of
//! delays (default: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each
//! spread by up to ±20% jitter so retries of many deliveries do not arrive
//! together, and stretched to what a 429/503 `Retry-After` asks for.

use std::{str::FromStr, time::Duration};

use rand::Rng;

/// The delays before each attempt; the first is the initial attempt's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        "0s,5s,5m,30m,2h,5h,10h,10h"
            .parse()
            .expect("the default schedule parses")
    }
}

impl FromStr for RetrySchedule {
    type Err = String;

    /// A comma-separated list of delays such as `0s,5s,5m,30m,2h` (units
    /// `ms`, `s`, `m`, `h`, `d`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let delays = s
            .split(',')
            .map(|part| parse_delay(part.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() {
            return Err("the retry schedule needs at least one delay".into());
        }
        Ok(Self(delays))
    }
}

fn parse_delay(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a delay like 5s or 30m"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use ms, s, m, h or d)"
            ));
        }
    };
    Ok(Duration::from_secs(seconds))
}

impl RetrySchedule {
    /// How many attempts the schedule allows in all.
    pub fn attempts(&self) -> usize {
        self.0.len()
    }

    /// The delay before attempt number `attempt` (1-based; attempt 1 is the
    /// first try), jittered; `None` once the schedule is exhausted.
    /// `retry_after` (from the previous response) lengthens the delay.
    pub fn delay_before(&self, attempt: usize, retry_after: Option<Duration>) -> Option<Duration> {
        let base = *self.0.get(attempt.checked_sub(1)?)?;
        let jittered = jitter(base);
        Some(retry_after.map_or(jittered, |asked| jittered.max(asked)))
    }
}

/// ±20%, never below zero.
fn jitter(base: Duration) -> Duration {
    if base.is_zero() {
        return base;
    }
    let factor = rand::rng().random_range(0.8..=1.2);
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schedules_and_refuses_nonsense() {
        let schedule: RetrySchedule = "0s, 500ms,5m,2h,1d".parse().unwrap();
        let expected = vec![
            Duration::ZERO,
            Duration::from_millis(500),
            Duration::from_secs(300),
            Duration::from_secs(7200),
            Duration::from_secs(86_400),
        ];
        assert_eq!(schedule.0, expected);
        assert_eq!(RetrySchedule::default().attempts(), 8);
        for bad in ["", "5x", "soon", "5s,,5m"] {
            assert!(bad.parse::<RetrySchedule>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn delays_are_jittered_within_twenty_percent_and_end_with_the_schedule() {
        let schedule: RetrySchedule = "0s,10s".parse().unwrap();
        assert_eq!(schedule.delay_before(1, None), Some(Duration::ZERO));
        for _ in 0..100 {
            let d = schedule.delay_before(2, None).unwrap();
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "{d:?}"
            );
        }
        assert_eq!(schedule.delay_before(3, None), None);
        assert_eq!(schedule.delay_before(0, None), None);
    }

    #[test]
    fn retry_after_lengthens_but_never_shortens() {
        let schedule: RetrySchedule = "0s,10s".parse().unwrap();
        assert_eq!(
            schedule.delay_before(2, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        assert!(
            schedule
                .delay_before(2, Some(Duration::from_secs(1)))
                .unwrap()
                >= Duration::from_secs(8)
        );
    }
}
