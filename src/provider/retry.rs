//! The request scheduler's policy: which failures are retried and after how long, and the
//! shared rate limiter that pauses every request when the API says its limits are spent.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// Longest server-requested delay we wait out; a longer one ends the request as an error that
/// says so, rather than holding a run for hours or hammering the API before the time it gave.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(600);

/// How failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay; each retry doubles it, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 5, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// Exponential backoff with jitter: the n-th retry (0-based) waits a random time between
    /// half and all of `base * 2^n`, so clients that failed together do not retry together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << retry.min(20)).min(self.max_delay);
        exp.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// Whether an HTTP status is worth retrying: timeouts, conflicts, rate limits, server errors.
/// `insufficient_quota` is a 429 too, but waiting does not fix a billing problem.
pub fn retryable_status(status: u16, code: Option<&str>) -> bool {
    if code == Some("insufficient_quota") {
        return false;
    }
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The delay the server asks for: `retry-after-ms`, then `retry-after` in seconds or as an HTTP
/// date. `None` when absent or unreadable; `Err` with the delay when it is over
/// [`MAX_SERVER_DELAY`].
pub fn server_delay(headers: &HeaderMap) -> Option<Result<Duration, Duration>> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let seconds = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX);
    let d = if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).filter(|ms| *ms >= 0.0) {
        seconds(ms / 1000.0)
    } else {
        let v = get("retry-after")?;
        match v.parse::<f64>() {
            Ok(s) if s >= 0.0 => seconds(s),
            Ok(_) => return None,
            // An HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`): the wait is until then.
            Err(_) => {
                let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
                (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO)
            }
        }
    };
    Some(if d <= MAX_SERVER_DELAY { Ok(d) } else { Err(d) })
}

/// Parse the Go-style durations of `x-ratelimit-reset-*` (`1s`, `6m0s`, `12ms`, `1h2m3.5s`).
pub fn go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0.0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" | "" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// One limiter per client, shared by every request it sends: when the API says a limit is spent
/// (`x-ratelimit-remaining-* = 0`, or a 429 with a delay), every request waits for the reset
/// instead of hammering the API and collecting more 429s.
#[derive(Debug, Default)]
pub struct RateLimiter {
    paused_until: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// Wait while a pause is in force.
    pub async fn ready(&self) {
        loop {
            let until = *self.paused_until.lock().expect("limiter lock");
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => return,
            }
        }
    }

    /// Pause every request for `d` (extending, never shortening, a pause in force).
    pub fn pause(&self, d: Duration) {
        let t = Instant::now() + d;
        let mut p = self.paused_until.lock().expect("limiter lock");
        if p.is_none_or(|old| old < t) {
            *p = Some(t);
        }
    }

    /// Learn from a response's `x-ratelimit-*` headers: a spent request or token budget pauses
    /// everyone until its reset.
    pub fn observe(&self, headers: &HeaderMap) {
        for kind in ["requests", "tokens"] {
            let remaining = headers
                .get(format!("x-ratelimit-remaining-{kind}"))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok());
            // Some deployments send -1 for "no limit"; only an exact 0 means spent.
            if remaining == Some(0)
                && let Some(reset) =
                    headers.get(format!("x-ratelimit-reset-{kind}")).and_then(|v| v.to_str().ok()).and_then(go_duration)
            {
                self.pause(reset.min(MAX_SERVER_DELAY));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("12ms"), Some(Duration::from_millis(12)));
        assert_eq!(go_duration("1h2m3.5s"), Some(Duration::from_secs_f64(3723.5)));
        assert_eq!(go_duration("soon"), None);
        assert_eq!(go_duration(""), None);
    }

    #[test]
    fn retry_classes_follow_the_api() {
        for s in [408, 409, 429, 500, 502, 503] {
            assert!(retryable_status(s, None), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!retryable_status(s, None), "{s}");
        }
        assert!(!retryable_status(429, Some("insufficient_quota")));
        assert!(retryable_status(429, Some("rate_limit_exceeded")));
    }

    #[test]
    fn server_delays_prefer_milliseconds_and_cap() {
        assert_eq!(
            server_delay(&headers(&[("retry-after-ms", "250"), ("retry-after", "9")])),
            Some(Ok(Duration::from_millis(250)))
        );
        assert_eq!(server_delay(&headers(&[("retry-after", "2")])), Some(Ok(Duration::from_secs(2))));
        assert_eq!(server_delay(&headers(&[("retry-after", "600")])), Some(Ok(Duration::from_secs(600))));
        assert_eq!(server_delay(&headers(&[("retry-after", "601")])), Some(Err(Duration::from_secs(601))));
        assert_eq!(server_delay(&headers(&[("retry-after", "1e300")])), Some(Err(Duration::MAX)));
        assert_eq!(server_delay(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(server_delay(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(server_delay(&headers(&[])), None);
    }

    #[test]
    fn server_delays_may_be_http_dates() {
        let at =
            |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc2822().replace("+0000", "GMT");
        let soon = server_delay(&headers(&[("retry-after", &at(30))])).unwrap().unwrap();
        assert!(soon > Duration::from_secs(28) && soon <= Duration::from_secs(30), "{soon:?}");
        let late = server_delay(&headers(&[("retry-after", &at(3600))])).unwrap().unwrap_err();
        assert!(late > Duration::from_secs(3590), "{late:?}");
        assert_eq!(server_delay(&headers(&[("retry-after", &at(-30))])), Some(Ok(Duration::ZERO)));
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy {
            max_retries: 9,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..50 {
            let d0 = p.backoff(0);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100), "{d0:?}");
            let d3 = p.backoff(3);
            assert!(d3 >= Duration::from_millis(400) && d3 <= Duration::from_millis(800), "{d3:?}");
            assert!(p.backoff(10) <= Duration::from_millis(1000));
        }
    }

    #[tokio::test]
    async fn spent_limits_pause_everyone_until_reset() {
        let l = RateLimiter::default();
        l.observe(&headers(&[("x-ratelimit-remaining-requests", "5"), ("x-ratelimit-reset-requests", "10s")]));
        let t = Instant::now();
        l.ready().await;
        assert!(t.elapsed() < Duration::from_millis(50), "not spent: no pause");
        l.observe(&headers(&[("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "120ms")]));
        l.ready().await;
        assert!(t.elapsed() >= Duration::from_millis(110), "{:?}", t.elapsed());
    }
}
