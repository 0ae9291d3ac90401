//! Analyses queued to run outside the request that asked for them (issue
//! 16 §1): at the `icb` scale the catalogue takes longer than a browser or
//! a proxy waits, and two at once would share two cores. A web page or an
//! API call queues the analysis and answers at once with the job; one
//! worker thread runs the jobs in order, each as the use case it wraps
//! (which checks the grant, audits the read and holds the output as if it
//! had been called directly); the user follows the job until it names its
//! held output.
//!
//! Jobs live in the server's memory: a restart loses the queue, never an
//! output (an output exists only once its use case has held it, audited).
//! Only the user who queued a job sees it.

use std::collections::{BTreeMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::{Actor, App, AppError};

/// Jobs waiting across the process before new ones are turned away.
pub const QUEUE_LIMIT: usize = 8;
/// Unfinished (waiting or running) jobs one user may have at once.
pub const PER_USER: usize = 2;
/// Finished jobs remembered (oldest forgotten first).
const KEPT: usize = 500;

/// Where a job is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting, with how many jobs run before it.
    Queued { ahead: usize },
    Running,
    /// Finished with what it made: `id` (a held output `OUT-…`, a
    /// validation run `IV-…`), where to see it, and `label` to say what
    /// it is ("Held for review as").
    Done { id: String, href: String, label: String },
    /// Failed or refused; `reason` is the use case's error.
    Failed { reason: String },
}

impl JobState {
    pub fn finished(&self) -> bool {
        matches!(self, JobState::Done { .. } | JobState::Failed { .. })
    }
}

/// One queued analysis.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Job {
    /// `JOB-` and a number, in order of queueing.
    pub id: String,
    /// Who queued it; only they see it.
    pub user: String,
    /// What it runs, in words.
    pub what: String,
    /// Unix seconds.
    pub queued_at: u64,
    pub started_at: Option<u64>,
    pub finished_at: Option<u64>,
    pub state: JobState,
}

/// What a finished job made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Made {
    pub id: String,
    pub href: String,
    pub label: String,
}

impl Made {
    /// An output held for review.
    pub fn output(id: String) -> Made {
        Made { href: format!("/outputs/{id}"), label: "Held for review as".into(), id }
    }
}

/// What a job does: a use case that makes something (an output, a run).
pub type Work = Box<dyn FnOnce(&App) -> Result<Made, AppError> + Send>;

/// The queue and its one worker, shared by clones of an [`App`].
#[derive(Default)]
pub struct Jobs {
    inner: Mutex<Inner>,
    ready: Condvar,
}

#[derive(Default)]
struct Inner {
    next: u64,
    jobs: BTreeMap<u64, Job>,
    waiting: VecDeque<(u64, Work)>,
    worker: bool,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Jobs").field("jobs", &inner.jobs.len()).field("waiting", &inner.waiting.len()).finish()
    }
}

impl Jobs {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic inside a job is caught before it could poison the lock;
        // a poisoned lock still holds consistent job records.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn view(&self, id: u64) -> Option<Job> {
        let mut job = self.jobs.get(&id)?.clone();
        if let JobState::Queued { ahead } = &mut job.state {
            *ahead = self.waiting.iter().position(|(w, _)| *w == id).unwrap_or(0) + usize::from(self.jobs.values().any(|j| j.state == JobState::Running));
        }
        Some(job)
    }

    fn forget_old(&mut self) {
        let finished: Vec<u64> = self.jobs.iter().filter(|(_, j)| j.state.finished()).map(|(k, _)| *k).collect();
        for k in finished.iter().take(finished.len().saturating_sub(KEPT)) {
            self.jobs.remove(k);
        }
    }
}

fn number(id: &str) -> Option<u64> {
    id.strip_prefix("JOB-")?.parse().ok()
}

impl App {
    /// Queues `work` for the signed-in `actor`; refused when they already
    /// have [`PER_USER`] unfinished jobs, busy when [`QUEUE_LIMIT`] jobs
    /// wait. Starts the worker on first use.
    pub fn queue(&self, actor: &Actor, what: &str, work: Work) -> Result<Job, AppError> {
        let user = actor.session().ok_or_else(|| AppError::Refused("an analysis needs a sign-in".into()))?.user.clone();
        let mut inner = self.jobs.lock();
        let unfinished = inner.jobs.values().filter(|j| j.user == user && !j.state.finished()).count();
        if unfinished >= PER_USER {
            return Err(AppError::Busy(format!("you have {unfinished} analyses queued or running; queue another when one has finished")));
        }
        if inner.waiting.len() >= QUEUE_LIMIT {
            return Err(AppError::Busy(format!("{} analyses are waiting to run; try again when the queue is shorter", inner.waiting.len())));
        }
        inner.next += 1;
        let n = inner.next;
        let job = Job { id: format!("JOB-{n:06}"), user, what: what.into(), queued_at: haven_governance::session::now(), started_at: None, finished_at: None, state: JobState::Queued { ahead: 0 } };
        inner.jobs.insert(n, job);
        inner.waiting.push_back((n, work));
        if !inner.worker {
            inner.worker = true;
            let app = self.clone();
            std::thread::Builder::new().name("haven-jobs".into()).spawn(move || run_jobs(app)).map_err(|e| AppError::Busy(format!("the analysis worker could not start: {e}")))?;
        }
        self.jobs.ready.notify_one();
        Ok(inner.view(n).expect("just queued"))
    }

    /// One job, only to the user who queued it (anyone else is refused, as
    /// if it were someone else's output).
    pub fn job(&self, actor: &Actor, id: &str) -> Result<Job, AppError> {
        let user = actor.session().map(|s| s.user.as_str()).unwrap_or("");
        let inner = self.jobs.lock();
        let job = number(id).and_then(|n| inner.view(n)).ok_or_else(|| AppError::NotFound(format!("no job {id}")))?;
        if job.user != user {
            return Err(AppError::Refused(format!("job {id} was queued by another user")));
        }
        Ok(job)
    }

    /// The actor's own jobs, newest first.
    pub fn my_jobs(&self, actor: &Actor) -> Vec<Job> {
        let user = actor.session().map(|s| s.user.as_str()).unwrap_or("");
        let inner = self.jobs.lock();
        inner.jobs.iter().rev().filter(|(_, j)| j.user == user).filter_map(|(n, _)| inner.view(*n)).collect()
    }
}

/// The worker: takes the oldest waiting job, runs it (a panic fails the
/// job, not the worker), records how it ended, and waits for the next.
fn run_jobs(app: App) {
    loop {
        let (n, work) = {
            let mut inner = app.jobs.lock();
            loop {
                if let Some(next) = inner.waiting.pop_front() {
                    break next;
                }
                inner = app.jobs.ready.wait(inner).unwrap_or_else(|p| p.into_inner());
            }
        };
        set(&app, n, |j| {
            j.state = JobState::Running;
            j.started_at = Some(haven_governance::session::now());
        });
        let ended = match std::panic::catch_unwind(AssertUnwindSafe(|| work(&app))) {
            Ok(Ok(Made { id, href, label })) => JobState::Done { id, href, label },
            Ok(Err(e)) => JobState::Failed { reason: e.to_string() },
            Err(_) => JobState::Failed { reason: "the analysis stopped unexpectedly; nothing was held".into() },
        };
        set(&app, n, |j| {
            j.state = ended;
            j.finished_at = Some(haven_governance::session::now());
        });
        app.jobs.lock().forget_old();
    }
}

fn set(app: &App, n: u64, f: impl FnOnce(&mut Job)) {
    if let Some(j) = app.jobs.lock().jobs.get_mut(&n) {
        f(j);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use haven_governance::dsa::{Purpose, Role};
    use haven_governance::session::Session;

    use super::*;

    fn analyst(user: &str) -> Actor {
        Actor::Signed(Session { user: user.into(), role: Role::Analyst, purpose: Some(Purpose::Commissioning), dsa: Some("DSA-X".into()), practice: None, expires_at: u64::MAX })
    }

    fn wait_until(app: &App, who: &Actor, id: &str, done: impl Fn(&JobState) -> bool) -> Job {
        let start = Instant::now();
        loop {
            let j = app.job(who, id).unwrap();
            if done(&j.state) {
                return j;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{id} stayed {:?}", j.state);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn jobs_run_in_order_one_at_a_time_and_only_their_user_sees_them() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::new(dir.path().join("data"), dir.path().join("keys"));
        let (ana, ben) = (analyst("ana"), analyst("ben"));
        // The first job waits for a signal, so the others queue behind it.
        let (go, wait) = mpsc::channel::<()>();
        let first = app.queue(&ana, "first", Box::new(move |_| wait.recv().map(|_| Made::output("OUT-00001".into())).map_err(|_| AppError::Invalid("no signal".into())))).unwrap();
        wait_until(&app, &ana, &first.id, |s| *s == JobState::Running);
        let second = app.queue(&ana, "second", Box::new(|_| Err(AppError::Invalid("period 2024-99 is not a financial year".into())))).unwrap();
        let third = app.queue(&ben, "third", Box::new(|_| panic!("a bug in an analysis"))).unwrap();
        // One running, then ana's second, then ben's: 1 and 2 ahead.
        assert_eq!(app.job(&ana, &second.id).unwrap().state, JobState::Queued { ahead: 1 });
        assert_eq!(app.job(&ben, &third.id).unwrap().state, JobState::Queued { ahead: 2 });
        // ana has two unfinished jobs: a third is turned away, busy.
        let refused = app.queue(&ana, "too many", Box::new(|_| Ok(Made::output("OUT-9".into())))).unwrap_err();
        assert!(matches!(refused, AppError::Busy(_)), "{refused}");
        // Another user's job is refused, not shown; an unknown one is not found.
        assert!(app.job(&ben, &first.id).unwrap_err().is_refusal());
        assert!(matches!(app.job(&ana, "JOB-999999"), Err(AppError::NotFound(_))));
        assert!(matches!(app.job(&ana, "../etc"), Err(AppError::NotFound(_))));
        go.send(()).unwrap();
        let done = wait_until(&app, &ana, &first.id, JobState::finished);
        assert_eq!(done.state, JobState::Done { id: "OUT-00001".into(), href: "/outputs/OUT-00001".into(), label: "Held for review as".into() });
        assert!(done.started_at.is_some() && done.finished_at.is_some());
        let failed = wait_until(&app, &ana, &second.id, JobState::finished);
        assert_eq!(failed.state, JobState::Failed { reason: "period 2024-99 is not a financial year".into() });
        // A panic fails its job and the worker goes on to the next.
        let panicked = wait_until(&app, &ben, &third.id, JobState::finished);
        assert!(matches!(panicked.state, JobState::Failed { .. }), "{:?}", panicked.state);
        let after = app.queue(&ben, "after", Box::new(|_| Ok(Made::output("OUT-00002".into())))).unwrap();
        assert_eq!(wait_until(&app, &ben, &after.id, JobState::finished).state, JobState::Done { id: "OUT-00002".into(), href: "/outputs/OUT-00002".into(), label: "Held for review as".into() });
        // Each sees only their own, newest first.
        let mine: Vec<String> = app.my_jobs(&ana).into_iter().map(|j| j.what).collect();
        assert_eq!(mine, ["second", "first"]);
        assert_eq!(app.my_jobs(&ben).len(), 2);
        // An unsigned caller queues nothing.
        assert!(app.queue(&Actor::host(), "x", Box::new(|_| Ok(Made::output("OUT-1".into())))).unwrap_err().is_refusal());
    }

    #[test]
    fn the_queue_is_bounded_across_users() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::new(dir.path().join("data"), dir.path().join("keys"));
        let (go, wait) = mpsc::channel::<()>();
        let blocker = analyst("blocker");
        let first = app.queue(&blocker, "hold", Box::new(move |_| wait.recv().map(|_| Made::output("OUT-1".into())).map_err(|_| AppError::Invalid("x".into())))).unwrap();
        wait_until(&app, &blocker, &first.id, |s| *s == JobState::Running);
        for i in 0..QUEUE_LIMIT {
            app.queue(&analyst(&format!("u{i}")), "waits", Box::new(|_| Ok(Made::output("OUT-2".into())))).unwrap();
        }
        let full = app.queue(&analyst("late"), "one too many", Box::new(|_| Ok(Made::output("OUT-3".into())))).unwrap_err();
        assert!(matches!(full, AppError::Busy(_)), "{full}");
        go.send(()).unwrap();
        wait_until(&app, &blocker, &first.id, JobState::finished);
    }
}
