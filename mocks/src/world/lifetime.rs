use std::future::Future;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Every task of one environment: stopping the environment cancels them and waits for them, so
/// no server outlives its scenario and no scenario shares state with another.
#[derive(Debug, Clone, Default)]
pub struct Lifetime {
    cancel: CancellationToken,
    tasks: TaskTracker,
    /// The trackers of the lifetimes this one is inside: each counts this one's tasks too.
    outer: Vec<TaskTracker>,
}

impl Lifetime {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` until it ends or the environment stops.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let cancel = self.cancel.clone();
        let mut task: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = task => {}
            }
        });
        for outer in &self.outer {
            task = Box::pin(outer.track_future(task));
        }
        self.tasks.spawn(task);
    }

    /// A lifetime inside this one, stopped on its own (a component that restarts) or with this
    /// one, whose `stop` then waits for its tasks too.
    pub fn child(&self) -> Self {
        let mut outer = self.outer.clone();
        outer.push(self.tasks.clone());
        Self {
            cancel: self.cancel.child_token(),
            tasks: TaskTracker::new(),
            outer,
        }
    }

    /// Stops every task without waiting for them: for `Drop`, where nothing can be awaited.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn is_stopping(&self) -> bool {
        self.cancel.is_cancelled()
    }

    pub async fn stop(&self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

#[cfg(test)]
mod child_tests {
    use super::*;

    #[tokio::test]
    async fn a_child_stops_alone_and_its_parent_waits_for_it() {
        let parent = Lifetime::new();
        let first = parent.child();
        parent.spawn(std::future::pending());
        first.spawn(std::future::pending());
        // Returns: the child's own task ended, the parent's did not hold it up.
        first.stop().await;
        assert!(!parent.is_stopping(), "the parent carries on");

        let second = parent.child();
        let (done, mut ended) = tokio::sync::oneshot::channel::<()>();
        second.spawn(async move {
            let _done = done;
            std::future::pending::<()>().await;
        });
        parent.stop().await;
        assert!(second.is_stopping(), "a child stops with its parent");
        // The parent's stop waited for the child's task: its end is already seen.
        assert!(
            ended
                .try_recv()
                .is_err_and(|e| e == tokio::sync::oneshot::error::TryRecvError::Closed)
        );
    }
}
