//! A GraphQL request over HTTP, from its JSON to its answer: persisted
//! queries, the parse cache, a batch's complexity taken whole, and
//! introspection run under its own depth limit.

use async_graphql::{BatchRequest, BatchResponse, Executor, Request, Response, ServerError};

use super::{
    AppSchema, CodedSchema, Documents, builder,
    errors::{VALIDATION_FAILED, with_codes},
    limits::{self, MeasureOnly, Measured},
    persisted::PersistedQueries,
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
        let introspection = settings.graphql_introspection.then(|| {
            let depth = settings
                .graphql_max_depth
                .max(limits::INTROSPECTION_MAX_DEPTH);
            CodedSchema(limited(depth).introspection_only().finish())
        });
        Self {
            schema: CodedSchema(limited(settings.graphql_max_depth).finish()),
            introspection,
            measure: limited(settings.graphql_max_depth)
                .extension(MeasureOnly)
                .finish(),
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
        auth: Auth,
        loaders: Loaders,
    ) -> BatchResponse {
        let (single, requests) = match batch {
            BatchRequest::Single(request) => (true, vec![request]),
            BatchRequest::Batch(requests) => (false, requests),
        };
        let mut prepared = Vec::new();
        for mut request in requests {
            let ready = self.persisted.resolve(&mut request).await.map(|()| {
                // A request that does not parse fails at execution, as usual.
                let _ = self.documents.parse(&mut request);
                request.data(auth.clone()).data(loaders.clone())
            });
            prepared.push(ready);
        }
        if !single && let Some(refused) = self.over_complexity(&mut prepared).await {
            return BatchResponse::Single(refused);
        }
        let answers = prepared.into_iter().map(|request| async move {
            match request {
                Ok(request) => self.run(request).await,
                Err(error) => with_codes(Response::from_errors(vec![error])),
            }
        });
        let mut answers = futures_util::future::join_all(answers).await;
        if single {
            BatchResponse::Single(answers.remove(0))
        } else {
            BatchResponse::Batch(answers)
        }
    }

    async fn run(&self, mut request: Request) -> Response {
        let mut schema = &self.schema;
        if let (Some(introspection), Ok(document)) = (&self.introspection, request.parsed_query())
            && limits::asks_only_about_schema(document)
        {
            if let Err(error) = limits::check_introspection(document) {
                return with_codes(Response::from_errors(vec![error]));
            }
            schema = introspection;
        }
        schema.execute(request).await
    }

    /// The answer refusing a batch whose operations are together more
    /// complex than `GRAPHQL_MAX_COMPLEXITY`, which then runs none.
    async fn over_complexity(
        &self,
        batch: &mut [Result<Request, ServerError>],
    ) -> Option<Response> {
        let measured = Measured::default();
        let copies = batch.iter_mut().flatten().map(|request| {
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
            let mut error = ServerError::new(
                format!(
                    "the batch's operations are together too complex: {total} > {} \
                     (GRAPHQL_MAX_COMPLEXITY); none was run",
                    self.max_complexity
                ),
                None,
            );
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", VALIDATION_FAILED);
            Response::from_errors(vec![error])
        })
    }
}
