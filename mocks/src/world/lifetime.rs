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
