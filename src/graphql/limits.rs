//! The limits a request meets beyond each operation's own depth and
//! complexity: introspection, which every client tool sends nested deeper
//! than any application query, and batches, whose operations together may
//! cost no more than one.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_graphql::{
    Response, ServerError, ValidationResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation},
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

use super::errors::{VALIDATION_FAILED, coded};

/// Depth allowed to a query that asks only about the schema. graphql-js'
/// `getIntrospectionQuery()` reaches 15 (nine `ofType` under
/// `types › fields › args › type`); the margin is for clients that go a
/// level or two further.
pub const INTROSPECTION_MAX_DEPTH: usize = 20;

/// List fields of the introspection types: each multiplies the answer by
/// the number of types, fields or arguments under it.
const LISTS: [&str; 8] = [
    "types",
    "fields",
    "inputFields",
    "args",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// Lists nested along one path: the standard query's deepest is
/// `types › fields › args`. Nesting them further (`fields › type › fields
/// › …`) would grow the answer exponentially within the depth limit.
const MAX_LIST_NESTING: usize = 3;

/// Deeper fragment spreads than this are a cycle (which validation
/// refuses anyway) or abuse.
const MAX_SPREADS: usize = 32;

/// Whether every operation of `document` is a query whose top-level fields
/// are `__schema`, `__type` or `__typename`.
pub fn asks_only_about_schema(document: &ExecutableDocument) -> bool {
    document.operations.iter().all(|(_, op)| {
        op.node.ty == OperationType::Query
            && op.node.selection_set.node.items.iter().all(|item| {
                matches!(&item.node, Selection::Field(field)
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type" | "__typename"))
            })
    })
}

/// Whether some operation of `document` asks for `__schema` or `__type`.
pub fn asks_for_schema(document: &ExecutableDocument) -> bool {
    document.operations.iter().any(|(_, op)| {
        op.node.selection_set.node.items.iter().any(|item| {
            matches!(&item.node, Selection::Field(field)
                if matches!(field.node.name.node.as_str(), "__schema" | "__type"))
        })
    })
}

/// Whether every operation of `document` is a query (what a GET may run).
pub fn only_queries(document: &ExecutableDocument) -> bool {
    document
        .operations
        .iter()
        .all(|(_, op)| op.node.ty == OperationType::Query)
}

/// Refuses an introspection query whose list fields nest more than
/// [`MAX_LIST_NESTING`] deep, or that lists the whole schema more than once
/// (`__schema` under several aliases).
pub fn check_introspection(document: &ExecutableDocument) -> Result<(), ServerError> {
    let mut nesting = Nesting {
        document,
        fragments: HashMap::new(),
    };
    for (_, op) in document.operations.iter() {
        let set = &op.node.selection_set.node;
        let schemas = set
            .items
            .iter()
            .filter(
                |item| matches!(&item.node, Selection::Field(f) if f.node.name.node == "__schema"),
            )
            .count();
        if schemas > 1 {
            return Err(refusal(format!(
                "an operation may ask for __schema once; this one does {schemas} times"
            )));
        }
        let lists = nesting.of(set, 0);
        if lists > MAX_LIST_NESTING {
            return Err(refusal(format!(
                "introspection nests {lists} lists (types, fields, args, …) in one another; \
                 at most {MAX_LIST_NESTING} are answered"
            )));
        }
    }
    Ok(())
}

fn refusal(message: String) -> ServerError {
    coded(&message, VALIDATION_FAILED)
}

/// The deepest nesting of list fields in a selection set, each fragment's
/// reckoned once however often it is spread.
struct Nesting<'a> {
    document: &'a ExecutableDocument,
    fragments: HashMap<&'a str, usize>,
}

impl<'a> Nesting<'a> {
    fn of(&mut self, set: &'a SelectionSet, spreads: usize) -> usize {
        if spreads > MAX_SPREADS {
            return usize::MAX / 2;
        }
        let mut deepest = 0;
        for item in &set.items {
            let nesting = match &item.node {
                Selection::Field(field) => {
                    let own = usize::from(LISTS.contains(&field.node.name.node.as_str()));
                    own + self.of(&field.node.selection_set.node, spreads)
                }
                Selection::InlineFragment(inline) => {
                    self.of(&inline.node.selection_set.node, spreads)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.fragments.get(name) {
                        Some(known) => *known,
                        None => {
                            let nesting =
                                self.document.fragments.get(name).map_or(0, |f| {
                                    self.of(&f.node.selection_set.node, spreads + 1)
                                });
                            self.fragments.insert(name, nesting);
                            nesting
                        }
                    }
                }
            };
            deepest = deepest.max(nesting);
        }
        deepest
    }
}

/// The complexity of the requests a schema with [`MeasureOnly`] validates,
/// added up. Put in each request's data.
#[derive(Clone, Default)]
pub struct Measured(Arc<AtomicUsize>);

impl Measured {
    pub fn total(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Validates a request, adds its complexity to the request's [`Measured`]
/// and runs nothing: a batch is measured whole before any of it runs.
/// Only on a schema kept for that, since any extension wraps every field
/// resolution of the schema it is on.
pub struct MeasureOnly;

impl ExtensionFactory for MeasureOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MeasureOnly)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for MeasureOnly {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(measured) = ctx.data_opt::<Measured>() {
            measured.0.fetch_add(result.complexity, Ordering::Relaxed);
        }
        Ok(result)
    }

    async fn execute(
        &self,
        _ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> Response {
        Response::new(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn only_queries_of_schema_fields_count_as_introspection() {
        let asks = |q: &str| asks_only_about_schema(&parse_query(q).unwrap());
        assert!(asks("{ __schema { queryType { name } } }"));
        assert!(asks(
            "query A { __type(name: \"Query\") { name } __typename }"
        ));
        assert!(!asks("{ __schema { types { name } } me { id } }"));
        assert!(!asks("mutation { __typename }"));
        assert!(!asks("{ ...F } fragment F on Query { __typename }"));
    }

    #[test]
    fn introspection_may_nest_three_lists_and_no_more() {
        let check = |q: &str| check_introspection(&parse_query(q).unwrap());
        check("{ __schema { types { fields { args { name } } } } }").unwrap();
        let cyclic =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert!(check(cyclic).is_err());
        let through_fragments = "{ __schema { types { ...T } } }
            fragment T on __Type { fields { type { ...U } } }
            fragment U on __Type { fields { type { fields { name } } } }";
        assert!(check(through_fragments).is_err());
        let cycle = "{ __schema { types { ...T } } } fragment T on __Type { ofType { ...T } }";
        assert!(check(cycle).is_err());
        assert!(
            check("{ a: __schema { types { name } } b: __schema { types { name } } }").is_err()
        );
    }

    #[test]
    fn a_fragment_spread_many_times_is_reckoned_once() {
        // Each fragment spreads the next twice: 2^30 walks if each spread
        // were walked again.
        let mut query = String::from("{ __schema { types { ...F0 } } }");
        for i in 0..30 {
            query.push_str(&format!(
                " fragment F{i} on __Type {{ a: ofType {{ ...F{n} }} b: ofType {{ ...F{n} }} }}",
                n = i + 1
            ));
        }
        query.push_str(" fragment F30 on __Type { name }");
        check_introspection(&parse_query(&query).unwrap()).unwrap();
    }
}
