//! The mock's answer delays, kept to a fraction of a millisecond: one thread wakes each waiting
//! answer at its deadline. tokio's timer rounds a deadline up to its next millisecond tick and
//! its driver's wait up again, which made a 100 ms answer take 101.5–102.5 ms, so a replay
//! benchmark charged the mock's slack to the client.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

use tokio::sync::oneshot;

/// An answer waiting for its deadline; ordered by deadline, then arrival.
struct Waiting {
    deadline: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

/// A handle to the clock thread, which stops once every handle is gone and nothing waits.
pub struct Clock {
    tx: mpsc::Sender<(Instant, oneshot::Sender<()>)>,
}

impl Clock {
    pub fn start() -> Clock {
        let (tx, rx) = mpsc::channel::<(Instant, oneshot::Sender<()>)>();
        std::thread::Builder::new()
            .name("evals-mock-clock".into())
            .spawn(move || {
                let mut heap = BinaryHeap::new();
                let mut seq = 0u64;
                let mut open = true;
                while open || !heap.is_empty() {
                    let next = heap.peek().map(|Reverse(w): &Reverse<Waiting>| w.deadline);
                    let received = match next {
                        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                        Some(d) if open => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
                        Some(d) => {
                            std::thread::sleep(d.saturating_duration_since(Instant::now()));
                            Err(RecvTimeoutError::Timeout)
                        }
                    };
                    match received {
                        Ok((deadline, wake)) => {
                            seq += 1;
                            heap.push(Reverse(Waiting { deadline, seq, wake }));
                        }
                        Err(RecvTimeoutError::Disconnected) => open = false,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    let now = Instant::now();
                    while heap.peek().is_some_and(|Reverse(w)| w.deadline <= now) {
                        let Reverse(w) = heap.pop().expect("peeked");
                        let _ = w.wake.send(()); // the request may have gone; nothing to wake
                    }
                }
            })
            .expect("spawn the mock's clock thread");
        Clock { tx }
    }

    /// Wait until `deadline`.
    pub async fn sleep_until(&self, deadline: Instant) {
        let (wake, woken) = oneshot::channel();
        if self.tx.send((deadline, wake)).is_ok() {
            let _ = woken.await;
        } else {
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_each_waiter_at_its_deadline() {
        let clock = std::sync::Arc::new(Clock::start());
        let start = Instant::now();
        let waits = [30u64, 10, 20, 10];
        let tasks: Vec<_> = waits
            .iter()
            .map(|&ms| {
                let clock = clock.clone();
                tokio::spawn(async move {
                    clock.sleep_until(start + Duration::from_millis(ms)).await;
                    start.elapsed()
                })
            })
            .collect();
        for (task, ms) in tasks.into_iter().zip(waits) {
            let took = task.await.unwrap();
            assert!(took >= Duration::from_millis(ms), "woke early: {took:?} for {ms} ms");
            // Generous for a loaded CI machine: this guards against a lost wake-up; the
            // precision shows in the ratio scripts/bench-replay.sh prints.
            assert!(took < Duration::from_millis(ms + 200), "woke late: {took:?} for {ms} ms");
        }
    }
}
