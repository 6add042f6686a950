//! Prometheus metrics: the registry and its instruments. Rendered at
//! `/metrics`; `http::metrics` feeds the HTTP ones.

use std::sync::atomic::AtomicU64;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    /// The route pattern (`/graphql`), never the raw path, to bound cardinality.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `succeeded`, `retrying` or `failed`.
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<HttpLabels, Histogram>,
    /// Requests admitted and not yet answered (see `http::admission`).
    pub http_requests_in_flight: Gauge,
    pub delivery_attempts: Family<OutcomeLabels, Counter>,
    pub delivery_attempt_duration: Histogram,
    /// Pending deliveries that are due (measured by the sweeper).
    pub delivery_queue_depth: Gauge,
    /// How long the oldest due delivery has waited, in seconds.
    pub delivery_queue_lag: Gauge<f64, AtomicU64>,
    /// Settled deliveries deleted past their retention by this process.
    pub deliveries_pruned: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("junction");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            // 0.5 ms … ~16 s
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.0005, 2.0, 16,
            ))
        });
        registry.register(
            "http_requests",
            "HTTP requests served",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to serve an HTTP request",
            http_duration.clone(),
        );
        let http_requests_in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests admitted and not yet answered",
            http_requests_in_flight.clone(),
        );
        let delivery_attempts = Family::<OutcomeLabels, Counter>::default();
        let delivery_attempt_duration = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.0005, 2.0, 16),
        );
        let delivery_queue_depth = Gauge::default();
        let delivery_queue_lag = Gauge::<f64, AtomicU64>::default();
        let deliveries_pruned = Counter::default();
        registry.register(
            "delivery_attempts",
            "Webhook delivery attempts by outcome",
            delivery_attempts.clone(),
        );
        registry.register(
            "delivery_attempt_duration_seconds",
            "Time for a receiver to answer a delivery attempt",
            delivery_attempt_duration.clone(),
        );
        registry.register(
            "delivery_queue_depth",
            "Deliveries due and not yet attempted",
            delivery_queue_depth.clone(),
        );
        registry.register(
            "delivery_queue_lag_seconds",
            "How long the oldest due delivery has been waiting",
            delivery_queue_lag.clone(),
        );
        registry.register(
            "deliveries_pruned",
            "Settled deliveries deleted past their retention",
            deliveries_pruned.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            http_requests_in_flight,
            delivery_attempts,
            delivery_attempt_duration,
            delivery_queue_depth,
            delivery_queue_lag,
            deliveries_pruned,
        }
    }
}

impl Metrics {
    pub fn delivery_outcome(&self, outcome: &'static str) {
        self.delivery_attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn delivery_latency(&self, latency: std::time::Duration) {
        self.delivery_attempt_duration
            .observe(latency.as_secs_f64());
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
