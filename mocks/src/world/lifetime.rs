use std::future::Future;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Every task of one environment: stopping the environment cancels them and waits for them, so
/// no server outlives its scenario and no scenario shares state with another.
#[derive(Debug, Clone, Default)]
pub struct Lifetime {
    cancel: CancellationToken,
    tasks: TaskTracker,
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
        self.tasks.spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// A lifetime inside this one, stopped on its own (a component that restarts) or with this
    /// one, whose `stop` then waits for its tasks too.
    pub fn child(&self) -> Self {
        let child = Self {
            cancel: self.cancel.child_token(),
            tasks: TaskTracker::new(),
        };
        let (cancel, tasks) = (child.cancel.clone(), child.tasks.clone());
        self.tasks.spawn(async move {
            cancel.cancelled().await;
            tasks.close();
            tasks.wait().await;
        });
        child
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
