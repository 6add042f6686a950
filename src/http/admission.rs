//! Admission: how many requests this process works on at once.
//!
//! Without a bound, a server asked for more than it can do queues every
//! request it is sent: each waits for a database connection, holding its
//! socket and buffers meanwhile (a server on PostgreSQL that a benchmark
//! asked for twice what it made grew past 900 MiB), and fails after the pool's acquire
//! timeout with nothing done. Past `MAX_INFLIGHT_REQUESTS` a request is
//! refused at once with 503 and `Retry-After`, so what is admitted keeps a
//! short queue and the caller learns to come back.

use std::sync::Arc;

use actix_web::{
    Error, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// The permits of one server process, shared by its HTTP workers.
pub struct Admission {
    permits: Arc<Semaphore>,
    in_flight: Gauge,
}

/// One admitted request; the permit returns when it is dropped.
struct Admitted {
    _permit: OwnedSemaphorePermit,
    in_flight: Gauge,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.in_flight.dec();
    }
}

impl Admission {
    pub fn new(max_inflight: u32, in_flight: Gauge) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_inflight as usize)),
            in_flight,
        }
    }

    fn try_admit(&self) -> Option<Admitted> {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        self.in_flight.inc();
        Some(Admitted {
            _permit: permit,
            in_flight: self.in_flight.clone(),
        })
    }
}

/// actix middleware: runs the request under a permit, or refuses it. A
/// WebSocket holds its permit only until its upgrade is answered.
pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let mut admitted = None;
    // Operators' probes answer whatever the load: a busy server is
    // alive, and its metrics are how one sees that it is busy.
    if let Some(admission) = req.app_data::<web::Data<Admission>>()
        && !super::health::is_probe(req.path())
    {
        admitted = admission.try_admit();
        if admitted.is_none() {
            let refused = AppError::Unavailable(
                "the server is busy: too many requests in flight; retry shortly",
            );
            let response = refused.error_response().map_into_right_body();
            return Ok(req.into_response(response));
        }
    }
    let response = next.call(req).await;
    drop(admitted);
    Ok(response?.map_into_left_body())
}
