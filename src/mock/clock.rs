//! The mock's answer delays, kept to a fraction of a millisecond: one thread wakes each waiting
//! answer at its deadline. tokio's timer rounds a deadline up to its next millisecond tick and
//! its driver's wait up again, which made a 100 ms answer take 101.5–102.5 ms, so a replay
//! benchmark charged the mock's slack to the client. The thread wakes at deadlines only, not for
//! each request that arrives (unless it is due before every other): at thousands of requests a
//! second, a wake-up per arrival was a good part of the mock's CPU. It also waits [`SLACK`] past
//! a deadline, so one wake-up answers every request due within it instead of one each.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How late an answer may be woken: at 10,000 answers a second, half a millisecond gathers about
/// five into a wake-up (the clock thread was a tenth of the mock's CPU), and adds 0.25 ms on
/// average to a 100 ms delay.
const SLACK: Duration = Duration::from_micros(500);

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

/// What the clock thread and the waiters share.
#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Waiting>>,
    seq: u64,
    /// False once the [`Clock`] is dropped: the thread ends when nothing waits any more.
    closed: bool,
}

type Shared = (Mutex<Queue>, Condvar);

/// A handle to the clock thread, which stops once the handle is gone and nothing waits.
pub struct Clock {
    shared: Arc<Shared>,
}

impl Clock {
    pub fn start() -> Clock {
        let shared: Arc<Shared> = Arc::default();
        let thread = shared.clone();
        std::thread::Builder::new()
            .name("evals-mock-clock".into())
            .spawn(move || tick(&thread))
            .expect("spawn the mock's clock thread");
        Clock { shared }
    }

    /// Wait until `deadline`.
    pub async fn sleep_until(&self, deadline: Instant) {
        let (wake, woken) = oneshot::channel();
        {
            let (queue, cv) = &*self.shared;
            let mut q = queue.lock().expect("mock clock lock");
            q.seq += 1;
            let first = q.heap.peek().is_none_or(|Reverse(w)| deadline < w.deadline);
            let seq = q.seq;
            q.heap.push(Reverse(Waiting { deadline, seq, wake }));
            if first {
                cv.notify_one(); // the thread sleeps until a later deadline
            }
        }
        let _ = woken.await;
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        let (queue, cv) = &*self.shared;
        queue.lock().expect("mock clock lock").closed = true;
        cv.notify_one();
    }
}

/// The clock thread: sleep until the earliest deadline, wake everything due.
fn tick((queue, cv): &Shared) {
    let mut due = Vec::new();
    let mut q = queue.lock().expect("mock clock lock");
    loop {
        let now = Instant::now();
        while q.heap.peek().is_some_and(|Reverse(w)| w.deadline <= now) {
            let Reverse(w) = q.heap.pop().expect("peeked");
            due.push(w.wake);
        }
        if !due.is_empty() {
            // Woken outside the lock, so arriving requests do not wait for the wake-ups.
            drop(q);
            for wake in due.drain(..) {
                let _ = wake.send(()); // the request may have gone; nothing to wake
            }
            q = queue.lock().expect("mock clock lock");
            continue;
        }
        q = match q.heap.peek() {
            Some(Reverse(w)) => {
                let wait = w.deadline.saturating_duration_since(now) + SLACK;
                cv.wait_timeout(q, wait).expect("mock clock lock").0
            }
            None if q.closed => return,
            None => cv.wait(q).expect("mock clock lock"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
