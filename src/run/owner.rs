//! Who owns a live run: this process's identity, the heartbeat that keeps its claim alive, and
//! the rule that tells a live owner from one that is gone, which `--resume` chooses by.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::RunError;
use crate::store::RunOwner;

/// How often a live run says so.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// A heartbeat older than this means the owner is gone (killed, or its machine is), whatever
/// host it ran on: several missed beats, so a busy machine is not taken for a dead one.
pub const STALE: Duration = Duration::from_secs(30);

/// This process, alive as of `now`.
pub fn me(now: DateTime<Utc>) -> RunOwner {
    RunOwner { pid: std::process::id(), host: hostname(), heartbeat: now }
}

/// Whether `owner` still runs its run at `now`: its heartbeat is fresh and, on this host, its
/// process exists (a run killed here is resumable at once, without waiting for staleness).
pub fn is_live(owner: &RunOwner, now: DateTime<Utc>) -> bool {
    let age = (now - owner.heartbeat).to_std().unwrap_or(Duration::ZERO);
    age <= STALE && (owner.host != hostname() || process_exists(owner.pid))
}

/// The run `--resume` without an id finishes: the newest unfinished run whose owner is gone;
/// never a live one.
pub fn pick(unfinished: &[(String, Option<RunOwner>)], now: DateTime<Utc>) -> Result<String, RunError> {
    if let Some((id, _)) = unfinished.iter().find(|(_, o)| o.as_ref().is_none_or(|o| !is_live(o, now))) {
        return Ok(id.clone());
    }
    match unfinished.first() {
        Some((run_id, Some(o))) => Err(RunError::OnlyLive { run_id: run_id.clone(), pid: o.pid, host: o.host.clone() }),
        _ => Err(RunError::NothingToResume),
    }
}

fn hostname() -> String {
    #[cfg(target_os = "linux")]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
        if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into())
}

/// Whether a process with this id exists here; when that cannot be known, it is taken to.
fn process_exists(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
        // Signal 0 checks existence only; EPERM means it exists under another user.
        // SAFETY: kill with signal 0 sends nothing.
        unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(pid: u32, host: &str, age_s: i64, now: DateTime<Utc>) -> RunOwner {
        RunOwner { pid, host: host.into(), heartbeat: now - chrono::Duration::seconds(age_s) }
    }

    #[test]
    fn an_owner_is_live_while_its_heartbeat_is_fresh_and_its_process_exists() {
        let now = Utc::now();
        let here = me(now);
        assert!(is_live(&here, now));
        assert!(!is_live(&RunOwner { heartbeat: now - chrono::Duration::seconds(31), ..here.clone() }, now));
        // A process of this host that does not exist (pid_max is at most 2^22).
        assert!(!is_live(&owner(u32::MAX - 1, &here.host, 0, now), now));
        // Elsewhere only the heartbeat can tell.
        assert!(is_live(&owner(u32::MAX - 1, "other-host", 10, now), now));
        assert!(!is_live(&owner(u32::MAX - 1, "other-host", 40, now), now));
    }

    #[test]
    fn resume_picks_the_newest_run_whose_owner_is_gone() {
        let now = Utc::now();
        let live = Some(me(now));
        let gone = Some(owner(1, "other-host", 3600, now));
        let runs = vec![("run_c".to_string(), live.clone()), ("run_b".into(), gone), ("run_a".into(), None)];
        assert_eq!(pick(&runs, now).unwrap(), "run_b");
        assert_eq!(pick(&runs[2..], now).unwrap(), "run_a", "a run without an owner is resumable");
        let err = pick(&runs[..1], now).unwrap_err();
        assert!(matches!(&err, RunError::OnlyLive { run_id, .. } if run_id == "run_c"), "{err}");
        assert!(matches!(pick(&[], now), Err(RunError::NothingToResume)));
    }
}
