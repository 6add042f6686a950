//! A GraphQL request over HTTP, from its JSON to its answer: persisted
//! queries, the parse cache, a batch's complexity taken whole, and
//! introspection run under its own depth limit.

use async_graphql::{BatchRequest, BatchResponse, Executor, Request, Response, ServerError};

use super::{
    AppSchema, CodedSchema, Documents, builder,
    errors::{VALIDATION_FAILED, coded, is_request_error, with_codes},
    limits::{self, MeasureOnly, Measured},
    persisted::{Learned, PersistedQueries},
};
use crate::{auth::Auth, graphql::loaders::Loaders, state::AppState};

/// The schemas a request may run on, and what requests share.
pub struct GraphqlApi {
    schema: CodedSchema,
    /// For queries that ask only about the schema; `None` when
    /// `GRAPHQL_INTROSPECTION` is off.
    introspection: Option<CodedSchema>,
    /// Validates a batch's operations and runs none of them.
    measure: AppSchema,
    documents: Documents,
    persisted: PersistedQueries,
    max_complexity: usize,
}

/// How a request came: a GET may only read (GraphQL over HTTP).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// The code of a mutation or subscription sent by GET, which HTTP answers
/// with 405.
pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";

type Prepared = Result<(Request, Option<Learned>), ServerError>;

impl GraphqlApi {
    pub fn new(app: &AppState) -> Self {
        let settings = &app.settings;
        let limited = |depth| {
            let builder = builder()
                .limit_depth(depth)
                .limit_complexity(settings.graphql_max_complexity)
                .data(app.clone());
            if settings.graphql_introspection {
                builder
            } else {
                builder.disable_introspection()
            }
        };
        let introspection_depth = settings
            .graphql_max_depth
            .max(limits::INTROSPECTION_MAX_DEPTH);
        let introspection = settings
            .graphql_introspection
            .then(|| CodedSchema(limited(introspection_depth).introspection_only().finish()));
        Self {
            schema: CodedSchema(limited(settings.graphql_max_depth).finish()),
            introspection,
            // As deep as either schema a batch's operations run on, so
            // that every operation that will run is measured.
            measure: limited(introspection_depth).extension(MeasureOnly).finish(),
            documents: Documents::default(),
            persisted: PersistedQueries::new(app.redis.clone(), &settings.redis_prefix),
            max_complexity: settings.graphql_max_complexity,
        }
    }

    /// The schema subscriptions run on.
    pub fn schema(&self) -> &CodedSchema {
        &self.schema
    }

    /// Answers `batch` for the caller `auth`; a batch's answers come in
    /// the order of its operations.
    pub async fn execute(
        &self,
        batch: BatchRequest,
        method: Method,
        auth: Auth,
        loaders: Loaders,
    ) -> BatchResponse {
        let (single, requests) = match batch {
            BatchRequest::Single(request) => (true, vec![request]),
            BatchRequest::Batch(requests) => (false, requests),
        };
        let signed_in = auth.principal().is_ok();
        let mut prepared: Vec<Prepared> = Vec::new();
        for mut request in requests {
            let ready = match self.persisted.resolve(&mut request).await {
                Ok(learned) => self.prepare(request, method).map(|request| {
                    let request = request.data(auth.clone()).data(loaders.clone());
                    (request, learned)
                }),
                Err(error) => Err(error),
            };
            prepared.push(ready);
        }
        if !single && let Some(refused) = self.over_complexity(&mut prepared).await {
            return BatchResponse::Single(refused);
        }
        let answers = prepared.into_iter().map(|request| async move {
            let (request, learned) = match request {
                Ok(ready) => ready,
                Err(error) => return with_codes(Response::from_errors(vec![error])),
            };
            let response = self.run(request).await;
            if let Some(learned) = learned
                && !is_request_error(&response)
            {
                self.persisted.learn(learned, signed_in).await;
            }
            response
        });
        let mut answers = futures_util::future::join_all(answers).await;
        if single {
            BatchResponse::Single(answers.remove(0))
        } else {
            BatchResponse::Batch(answers)
        }
    }

    /// Parses `request` (from the cache when its text was seen); by GET,
    /// refuses anything but queries.
    fn prepare(&self, mut request: Request, method: Method) -> Result<Request, ServerError> {
        // A request that does not parse fails at execution, as usual.
        let parsed = self.documents.parse(&mut request);
        if method == Method::Get
            && parsed.is_ok()
            && let Ok(document) = request.parsed_query()
            && !limits::only_queries(document)
        {
            return Err(coded(
                "a GET runs queries only; send mutations and subscriptions by POST",
                METHOD_NOT_ALLOWED,
            ));
        }
        Ok(request)
    }

    async fn run(&self, mut request: Request) -> Response {
        let mut schema = &self.schema;
        if let Ok(document) = request.parsed_query() {
            match &self.introspection {
                Some(introspection) if limits::asks_only_about_schema(document) => {
                    if let Err(error) = limits::check_introspection(document) {
                        return Response::from_errors(vec![error]);
                    }
                    schema = introspection;
                }
                // async-graphql would answer `__schema: null`, as if
                // there were no schema.
                None if limits::asks_for_schema(document) => {
                    return Response::from_errors(vec![coded(
                        "introspection is switched off on this server (GRAPHQL_INTROSPECTION)",
                        VALIDATION_FAILED,
                    )]);
                }
                _ => {}
            }
        }
        schema.execute(request).await
    }

    /// The answer refusing a batch whose operations are together more
    /// complex than `GRAPHQL_MAX_COMPLEXITY`, which then runs none.
    async fn over_complexity(&self, batch: &mut [Prepared]) -> Option<Response> {
        let measured = Measured::default();
        let copies = batch.iter_mut().flatten().map(|(request, _)| {
            let mut copy = Request::new(request.query.clone())
                .variables(request.variables.clone())
                .data(measured.clone());
            copy.operation_name = request.operation_name.clone();
            if let Ok(document) = request.parsed_query() {
                copy.set_parsed_query(document.clone());
            }
            self.measure.execute(copy)
        });
        futures_util::future::join_all(copies).await;
        let total = measured.total();
        (total > self.max_complexity).then(|| {
            Response::from_errors(vec![coded(
                &format!(
                    "the batch's operations are together too complex: {total} > {} \
                     (GRAPHQL_MAX_COMPLEXITY); none was run",
                    self.max_complexity
                ),
                VALIDATION_FAILED,
            )])
        })
    }
}
