//! Requests in flight: `concurrency` worker threads per endpoint pull prompts from one queue,
//! so a faster or idler endpoint takes more of the work. A worker retries a request that failed
//! for a reason that may pass (connection, timeout, 5xx) with exponential backoff; after
//! `retries` failed tries its endpoint is declared dead, the prompt goes back to the queue for
//! the others, and the endpoint's other workers stop at their next failure or job.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::api::Api;
use super::client::{Client, Failure, backoff};

pub(crate) struct Job {
    pub(crate) idx: usize,
    pub(crate) ids: Vec<u32>,
}

pub(crate) enum Event {
    /// The (yes, no) log-probabilities of candidate `idx`.
    Done { idx: usize, answer: super::api::Answer },
    /// An answer that is not the prompt's (the engine read another number of tokens): the
    /// candidate fails with the reason; asking again would not change it.
    Refused { idx: usize, msg: String },
    /// A request the endpoint answered with an error that asking again would not change.
    Fatal { idx: usize, endpoint: String, msg: String },
    /// An endpoint stopped answering; its work went back to the queue.
    Dead { endpoint: String, reason: String },
}

/// What every worker needs to ask (the API is each endpoint's own).
#[derive(Clone)]
pub(crate) struct Ask {
    pub(crate) model: String,
    pub(crate) answer: [u32; 2],
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    closed: bool,
    /// Jobs a worker holds: one may come back (its endpoint died), so no worker leaves while
    /// any is out.
    out: usize,
}

#[derive(Default)]
struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

impl Queue {
    fn pop(&self, alive: &AtomicBool) -> Option<Job> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if !alive.load(Ordering::SeqCst) {
                return None;
            }
            if let Some(j) = s.jobs.pop_front() {
                s.out += 1;
                return Some(j);
            }
            if s.closed && s.out == 0 {
                return None;
            }
            s = self.ready.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn push(&self, job: Job) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.jobs.push_back(job);
        self.ready.notify_one();
    }

    /// A job handed back by a worker whose endpoint died: first in line for the others.
    fn hand_back(&self, job: Job) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.jobs.push_front(job);
        s.out -= 1;
        self.ready.notify_all();
    }

    /// A job answered (or failed for good).
    fn finished(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.out -= 1;
        if s.out == 0 {
            self.ready.notify_all();
        }
    }
}

pub(crate) struct Pool {
    queue: Arc<Queue>,
    pub(crate) events: Receiver<Event>,
    alive: Vec<Arc<AtomicBool>>,
    handles: Vec<JoinHandle<()>>,
}

impl Pool {
    pub(crate) fn start(endpoints: &[(Client, Api)], concurrency: usize, ask: &Ask) -> Self {
        let queue = Arc::new(Queue::default());
        let (tx, events) = channel();
        let alive: Vec<Arc<AtomicBool>> = endpoints.iter().map(|_| Arc::new(AtomicBool::new(true))).collect();
        let mut handles = Vec::new();
        for ((c, api), live) in endpoints.iter().zip(&alive) {
            for _ in 0..concurrency.max(1) {
                let (q, c, api, live, tx, ask) =
                    (queue.clone(), c.clone(), *api, live.clone(), tx.clone(), ask.clone());
                handles.push(thread::spawn(move || work(&q, &c, api, &live, &tx, &ask)));
            }
        }
        Pool { queue, events, alive, handles }
    }

    pub(crate) fn push(&self, job: Job) {
        self.queue.push(job);
    }

    /// Prompts waiting for a worker.
    pub(crate) fn waiting(&self) -> usize {
        self.queue.state.lock().unwrap_or_else(|e| e.into_inner()).jobs.len()
    }

    pub(crate) fn alive(&self) -> usize {
        self.alive.iter().filter(|a| a.load(Ordering::SeqCst)).count()
    }

    /// No more jobs will come: workers exit once the queue is empty.
    pub(crate) fn close(&self) {
        let mut s = self.queue.state.lock().unwrap_or_else(|e| e.into_inner());
        s.closed = true;
        self.queue.ready.notify_all();
    }

    /// Stops every worker: none takes another prompt. After a complete run they have all left;
    /// after an error, one still waiting on a slow request is not waited for (its answer is
    /// dropped, and scored again by the next run).
    pub(crate) fn stop(self) {
        {
            let mut s = self.queue.state.lock().unwrap_or_else(|e| e.into_inner());
            s.jobs.clear();
            s.closed = true;
            self.queue.ready.notify_all();
        }
        for a in &self.alive {
            a.store(false, Ordering::SeqCst);
        }
        drop(self.events);
        drop(self.handles);
    }
}

fn work(q: &Queue, c: &Client, api: Api, alive: &AtomicBool, tx: &Sender<Event>, ask: &Ask) {
    while let Some(job) = q.pop(alive) {
        let (path, body) = api.request(&ask.model, &job.ids, ask.answer);
        let mut failed = 0;
        loop {
            let failure = match c.post(path, &body) {
                Ok(v) => match api.parse(&v, ask.answer) {
                    Ok(answer) => {
                        let event = match api.check_length(&v, job.ids.len()) {
                            // An engine that reports no count was named once, at the probe.
                            Ok(_) => Event::Done { idx: job.idx, answer },
                            Err(msg) => Event::Refused { idx: job.idx, msg },
                        };
                        let _ = tx.send(event);
                        q.finished();
                        break;
                    }
                    Err(m) => Failure::Fatal { status: None, msg: m },
                },
                Err(f) => f,
            };
            match failure {
                Failure::Fatal { msg, .. } => {
                    let _ = tx.send(Event::Fatal { idx: job.idx, endpoint: c.url.clone(), msg });
                    q.finished();
                    break;
                }
                Failure::Retry(reason) => {
                    failed += 1;
                    if !alive.load(Ordering::SeqCst) {
                        q.hand_back(job);
                        return;
                    }
                    if failed > ask.retries {
                        // Only the first worker to give up reports it.
                        if alive.swap(false, Ordering::SeqCst) {
                            let _ = tx.send(Event::Dead { endpoint: c.url.clone(), reason });
                        }
                        q.hand_back(job);
                        return;
                    }
                    thread::sleep(backoff(ask.backoff, failed));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let b = Duration::from_millis(250);
        assert_eq!(backoff(b, 1), b);
        assert_eq!(backoff(b, 3), Duration::from_secs(1));
        assert_eq!(backoff(b, 40), Duration::from_secs(30));
    }
}
