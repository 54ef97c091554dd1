//! Executing a resolved run: every sample replayed and graded at bounded concurrency, each
//! result committed as it finishes (in batches, while the next cases go on), the run recorded
//! when all are done. Shutdown and the event sink are the caller's.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::resolve::{Endpoint, Resolved, Selected};
use super::spill::Spill;
use super::{Budget, Event, Events, RunError, owner};
use crate::dataset::{Case, PREVIEW_CHARS};
use crate::grade::{Edge, Graders, Subject, scoring};
use crate::mock::{Script, server::Server};
use crate::provider::client::Client;
use crate::provider::pricing::PriceTable;
use crate::record::{CaseResult, Output, Run, Status, StoredRuns, Tally};
use crate::replay::{self, Replayer, cache::Cache};
use crate::store::{Handle, RunOwner, Store, StoreError};
use crate::suite::{CacheSetting, CasePlan, Mock, Suite};
use crate::trace::Usage;

/// What every sample of a run is replayed and graded with.
struct Sampler {
    replayer: Replayer,
    graders: Graders,
    prices: PriceTable,
    budget: Budget,
}

impl Sampler {
    /// Replay and grade one sample of one case.
    async fn sample(&self, plan: &CasePlan, repeat: u32) -> CaseResult {
        if let Some(why) = self.budget.exhausted() {
            return not_run(&plan.case.id, repeat, Some(&plan.case), why, "budget");
        }
        if plan.case.needs_expectation() {
            // Graded, it would be held to the answer its label calls wrong: an error, before
            // anything is spent on it.
            let why = format!(
                "case {0} is labelled fail with no expectation of what is right: `evals label {0} \
                 --expect-contains TEXT` (or --expect-tool, --reference, --expect-not-tool, --expect-not-contains)",
                plan.case.id
            );
            return not_run(&plan.case.id, repeat, Some(&plan.case), why, "needs_expectation");
        }
        let replayed = replay::replay(&self.replayer, plan, repeat).await;
        let cached = replayed.cached();
        let t = replayed.transcript;
        let cost_usd = self.prices.cost(&plan.model, &t.usage);
        // A case answered wholly from the cache costs nothing now, so it does not eat the budget.
        if t.cache_hits < t.model_calls {
            self.budget.add(cost_usd, &t.usage);
        }
        let (status, error, cause, grades) = match replayed.error {
            Some(e) => (Status::Error, Some(e.to_string()), Some(e.cause().to_string()), Vec::new()),
            None => {
                let s = Subject {
                    case: &plan.case,
                    output: &t.output,
                    turns: t.turns,
                    latency_ms: t.latency_ms,
                    usage: &t.usage,
                    cost_usd,
                };
                let grades = self.graders.grade(&s).await;
                let (status, error) = scoring::status(&grades, self.graders.threshold);
                (status, error, None, grades)
            }
        };
        CaseResult {
            case_id: plan.case.id.clone(),
            repeat,
            status,
            output: t.output,
            turns: t.turns,
            usage: t.usage,
            cost_usd,
            latency_ms: t.latency_ms,
            grades,
            error,
            failure: plan.case.label.failure.clone(),
            tags: plan.case.tags.clone(),
            cause,
            cached,
            model_calls: t.model_calls,
            cache_hits: t.cache_hits,
            retries: t.retries,
            case_file: None,
            trace_id: Some(plan.case.source.trace_id.clone()),
            input: Some(plan.case.input.preview(PREVIEW_CHARS)),
        }
    }
}

/// A sample that ended before any request: the budget did not let it start, it is labelled
/// fail with nothing saying what is right, or its case cannot be planned again (a template it
/// includes no longer renders, the checked copy cannot be read).
fn not_run(case_id: &str, repeat: u32, case: Option<&Case>, error: String, cause: &str) -> CaseResult {
    CaseResult {
        case_id: case_id.to_string(),
        repeat,
        status: Status::Error,
        output: Output::default(),
        turns: 0,
        usage: Usage::default(),
        cost_usd: None,
        latency_ms: 0,
        grades: Vec::new(),
        error: Some(error),
        failure: case.and_then(|c| c.label.failure.clone()),
        tags: case.map(|c| c.tags.clone()).unwrap_or_default(),
        cause: Some(cause.into()),
        cached: false,
        model_calls: 0,
        cache_hits: 0,
        retries: 0,
        case_file: None,
        trace_id: case.map(|c| c.source.trace_id.clone()),
        input: case.map(|c| c.input.preview(PREVIEW_CHARS)),
    }
}

/// Execute the run; on shutdown, what finished is committed and the run stays resumable.
pub fn execute(
    store: &Path,
    r: Resolved,
    out: Option<&Path>,
    events: &mut dyn Events,
    shutdown: impl Future<Output = ()>,
) -> Result<Run, RunError> {
    let (handle, store_thread) = Handle::spawn(Store::open(store)?);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(RunError::Runtime)?;
    let run_id = r.record.id.clone();
    let me = owner::me(Utc::now());
    let mut tally = Tally::of_samples(r.record.options.repeat);
    r.record.results.iter().for_each(|done| tally.add(done));
    let committer = Committer::new(handle.clone(), &run_id, tally);
    let outcome = runtime.block_on(async {
        let beat = tokio::spawn(heartbeat(handle.clone(), run_id.clone(), me.clone()));
        let flusher = tokio::spawn(committer.clone().flush_every());
        let outcome = tokio::select! {
            run = replay_all(r, &handle, &committer, out.map(Path::to_path_buf), events) => run.map(Some),
            () = shutdown => Ok(None),
        };
        // What finished before a shutdown is kept.
        committer.flush();
        // Awaited, so their store handles are gone before the store thread is joined.
        for task in [beat, flusher] {
            task.abort();
            let _ = task.await;
        }
        outcome
    });
    drop(committer);
    if let Ok(None) = outcome {
        // Interrupted on purpose: anyone may resume it now, from any host.
        let id = run_id.clone();
        let _ = handle.submit(move |s| {
            let _ = s.release_run(&id, &me);
        });
    }
    drop(handle);
    let _ = store_thread.join();
    outcome?.ok_or(RunError::Interrupted { run_id })
}

async fn replay_all(
    r: Resolved,
    handle: &Handle,
    committer: &Committer,
    out: Option<PathBuf>,
    events: &mut dyn Events,
) -> Result<Run, RunError> {
    let _mock;
    // The mock listens on a new port each run: the cache knows it by its script instead.
    let (base_url, api_key, mock_provider) = match &r.endpoint {
        Endpoint::Mock(m) => {
            let (script, provider) = match m {
                Mock::Builtin => (Script::builtin(), "mock builtin".to_string()),
                Mock::Script(p) => {
                    let text = std::fs::read(p).unwrap_or_default();
                    (Script::load(p)?, format!("mock sha256:{}", hex::encode(Sha256::digest(&text))))
                }
            };
            let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
            let server = Server::start(script, addr).await.map_err(RunError::Mock)?;
            let url = server.base_url();
            _mock = server;
            (url, None, Some(provider))
        }
        Endpoint::Api { base_url, api_key } => (base_url.clone(), Some(api_key.clone()), None),
    };
    let named = |c: Client| match &mock_provider {
        Some(p) => c.with_provider(p.clone()),
        None => c,
    };
    let provider = r.suite.provider.clone();
    let budget = Budget::new(r.suite.gate.max_cost_usd, r.suite.gate.max_tokens);
    for done in &r.record.results {
        budget.add(done.cost_usd, &done.usage);
    }
    let mut graders = r.graders.clone();
    // Judges use the suite's provider (its API flavour and retry policy: a Chat Completions-only
    // endpoint judges too) and cache their answers in the store.
    // `--no-cache` and `cache: off` cover judge answers too.
    let cached = !r.record.options.no_cache && r.suite.cache != CacheSetting::Off;
    let ttl = match r.suite.cache {
        CacheSetting::Ttl(t) => Some(t),
        CacheSetting::On | CacheSetting::Off => None,
    };
    // One client for the agent and its judges: the same endpoint, connections and rate limits.
    let client = named(
        Client::new(&base_url, api_key.clone(), provider.timeout)?.with_retry(provider.retry).with_api(provider.api),
    );
    let mut edge =
        Edge::new(client.clone(), &base_url, api_key, r.suite.prices.clone(), cached.then(|| handle.clone()));
    edge.ttl = ttl;
    graders.edge = Some(Arc::new(edge));
    let sampler = Arc::new(Sampler {
        replayer: Replayer { client, cache: cached.then(|| Cache::new(handle.clone(), ttl)) },
        graders,
        prices: r.suite.prices.clone(),
        budget,
    });
    events.event(Event::Started { run_id: &r.record.id, total: r.total(), finished: &r.record.results });
    let suite = Arc::new(r.suite);
    run_slots(sampler, suite, r.cases, r.spill, r.jobs, r.concurrency, |result| {
        events.event(Event::CaseFinished(&result));
        committer.commit(result, events);
    })
    .await;
    committer.flush();
    events.event(Event::Replayed);
    // The summary counted each result as it was stored, and the run file is written from the
    // store a page of results at a time: the run never holds all its results.
    let (id, header, tally) = (r.record.id.clone(), r.record.header(), committer.tally.clone());
    let (finished, saved) = handle
        .call(move |s| {
            // The store thread ran every commit before this call: the tally has them all.
            let tally = std::mem::take(&mut *tally.lock().expect("tally lock"));
            let run = Run { summary: tally.summary(), finished_at: Some(Utc::now()), ..header };
            s.finish_run(&run)?;
            let saved = out.map(|path| run.save_with(s.result_texts(&id), &path));
            Ok((run, saved))
        })
        .await?;
    // The store thread ran every commit before the call: all failures are known now.
    committer.report_failures(events);
    saved.transpose()?;
    Ok(finished)
}

/// Say every [`owner::HEARTBEAT`] that this process still runs the run, so that `--resume`
/// elsewhere leaves it alone. A missed beat is harmless: only many make the run look abandoned.
async fn heartbeat(handle: Handle, run_id: String, me: RunOwner) {
    let mut every = tokio::time::interval(owner::HEARTBEAT);
    every.tick().await;
    loop {
        every.tick().await;
        let (id, me) = (run_id.clone(), RunOwner { heartbeat: Utc::now(), ..me.clone() });
        if handle.submit(move |s| drop(s.heartbeat_run(&id, &me))).is_err() {
            return;
        }
    }
}

/// How often waiting results are committed, and how many make a commit at once: a crash loses
/// at most what waits, and one transaction per batch keeps the store's share of the CPU small
/// however fast cases finish (a commit per few results cost a tenth of the run's CPU).
const FLUSH_EVERY: Duration = Duration::from_millis(100);
const BATCH: usize = 1024;

/// Results wait here for the store thread, which commits them in batches while the next cases
/// go on: the disk never holds back a case.
#[derive(Clone)]
struct Committer {
    handle: Handle,
    run_id: Arc<str>,
    waiting: Arc<Mutex<Waiting>>,
    /// Every result stored so far, counted by the store thread as it commits them.
    tally: Arc<Mutex<Tally>>,
}

/// Results not yet committed, whether a commit job is queued (it takes all that waits when it
/// runs), and the batches whose commit failed (size, first case, error).
#[derive(Default)]
struct Waiting {
    results: Vec<CaseResult>,
    queued: bool,
    failed: Vec<(usize, String, StoreError)>,
}

impl Committer {
    /// `tally` counts what the run stored before (a resumed run's results).
    fn new(handle: Handle, run_id: &str, tally: Tally) -> Committer {
        Committer { handle, run_id: run_id.into(), waiting: Arc::default(), tally: Arc::new(Mutex::new(tally)) }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().expect("result queue lock")
    }

    fn report_failures(&self, events: &mut dyn Events) {
        let failed = std::mem::take(&mut self.waiting().failed);
        for (count, first_case, error) in failed {
            events.event(Event::NotStored { count, first_case: &first_case, error: &error });
        }
    }

    fn commit(&self, result: CaseResult, events: &mut dyn Events) {
        let full = {
            let mut waiting = self.waiting();
            waiting.results.push(result);
            waiting.results.len() >= BATCH
        };
        if full {
            self.flush();
        }
        self.report_failures(events);
    }

    /// Queue a commit of what waits, unless one is queued already.
    fn flush(&self) {
        {
            let mut waiting = self.waiting();
            if waiting.queued || waiting.results.is_empty() {
                return;
            }
            waiting.queued = true;
        }
        let (run_id, queue, tally) = (self.run_id.clone(), self.waiting.clone(), self.tally.clone());
        let queued = self.handle.submit(move |s| {
            let batch = {
                let mut waiting = queue.lock().expect("result queue lock");
                waiting.queued = false;
                std::mem::take(&mut waiting.results)
            };
            match s.save_results(&run_id, &batch) {
                // Only the store thread counts: the lock is never waited on.
                Ok(()) => {
                    let mut tally = tally.lock().expect("tally lock");
                    batch.iter().for_each(|r| tally.add(r));
                }
                // A batch can hold a thousand results: name the first, count the rest.
                Err(e) => {
                    let first = batch.first().map_or_else(String::new, |r| r.case_id.clone());
                    queue.lock().expect("result queue lock").failed.push((batch.len(), first, e));
                }
            }
        });
        if let Err(e) = queued {
            let mut waiting = self.waiting();
            let lost = std::mem::take(&mut waiting.results);
            let first = lost.first().map_or_else(String::new, |r| r.case_id.clone());
            waiting.failed.push((lost.len(), first, e));
            waiting.queued = false;
        }
    }

    /// Commit what waits every [`FLUSH_EVERY`], so that a slow run stores each result soon.
    async fn flush_every(self) {
        let mut every = tokio::time::interval(FLUSH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.flush();
        }
    }
}

/// How often finished results are taken from the slots, and at most how many at once.
const RESULTS_EVERY: Duration = Duration::from_millis(5);
const RESULTS_AT_ONCE: usize = 4096;

/// Replay every job, at most `concurrency` at a time, spread over the runtime's threads;
/// `on_result` takes each result soon after it finishes (it must not block, or it holds back the
/// next).
async fn run_slots(
    sampler: Arc<Sampler>,
    suite: Arc<Suite>,
    cases: Vec<Selected>,
    spill: Spill,
    jobs: Vec<(usize, u32)>,
    concurrency: usize,
    mut on_result: impl FnMut(CaseResult),
) {
    // One long-lived task per slot takes the next job itself as soon as its case is done, so a
    // freed slot's next request leaves at once instead of after a round trip through this task.
    let total = jobs.len();
    let queue = Arc::new(Mutex::new(jobs.into_iter()));
    let (cases, spill) = (Arc::new(cases), Arc::new(spill));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut slots = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, total.max(1)) {
        let (queue, sampler, suite, cases, spill, tx) =
            (queue.clone(), sampler.clone(), suite.clone(), cases.clone(), spill.clone(), tx.clone());
        slots.spawn(async move {
            let planner = suite.planner();
            loop {
                let next = queue.lock().expect("job queue lock").next();
                let Some((i, repeat)) = next else { break };
                let c = &cases[i];
                let planned = spill.read(c.case).map_err(|e| format!("cannot read the checked case back: {e}"));
                let mut result = match planned.map(|case| planner.plan(case)) {
                    Ok(Ok(plan)) => sampler.sample(&plan, repeat).await,
                    Err(why) => not_run(&c.id, repeat, None, why, "case"),
                    // It planned when the run was resolved: a template it includes changed since.
                    Ok(Err(e)) => {
                        let case = spill.read(c.case).ok();
                        not_run(&c.id, repeat, case.as_ref(), format!("the case no longer plans: {e}"), "case")
                    }
                };
                result.case_file = Some(c.file.clone());
                if tx.send(result).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    // Results are taken in batches: this task runs on the thread that started the runtime, and
    // waking it for every result cost about a twentieth of a large run's CPU.
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, RESULTS_AT_ONCE).await > 0 {
        batch.drain(..).for_each(&mut on_result);
        tokio::time::sleep(RESULTS_EVERY).await;
    }
    // A panicking case is a bug; let it surface rather than lose the result silently.
    while let Some(done) = slots.join_next().await {
        done.expect("a replay task panicked");
    }
}
