//! Parsed GraphQL documents, kept by their text: clients send the same few
//! documents again and again with other variables, and parsing one is a
//! node per token. async-graphql still checks each document's depth,
//! complexity and validity against the schema at every request.

use std::sync::Arc;

use async_graphql::{Request, ServerError, parser::types::ExecutableDocument};
use moka::sync::Cache;

/// Documents kept at most, so that clients writing values into their
/// documents instead of variables cannot grow the cache without end.
const MAX_DOCUMENTS: u64 = 256;
/// Longer documents (an application's usually are far shorter) are parsed
/// every time.
const MAX_TEXT: usize = 4 * 1024;

#[derive(Clone)]
pub struct Documents(Cache<String, Arc<ExecutableDocument>>);

impl Default for Documents {
    fn default() -> Self {
        Self(Cache::new(MAX_DOCUMENTS))
    }
}

impl Documents {
    /// Gives `request` its document, parsed, from the cache when its text
    /// was seen.
    pub fn parse(&self, request: &mut Request) -> Result<(), ServerError> {
        if request.query.len() > MAX_TEXT {
            return request.parsed_query().map(drop);
        }
        match self.0.get(&request.query) {
            // async-graphql takes the document by value.
            Some(document) => request.set_parsed_query(ExecutableDocument::clone(&document)),
            None => {
                let document = Arc::new(request.parsed_query()?.clone());
                self.0.insert(request.query.clone(), document);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_seen_before_comes_from_the_cache_and_a_bad_one_is_refused() {
        let documents = Documents::default();
        let query = "query ($p: ID!) { project(id: $p) { id name } }";
        let mut first = Request::new(query);
        documents.parse(&mut first).unwrap();
        assert!(documents.0.contains_key(query));
        let mut again = Request::new(query);
        documents.parse(&mut again).unwrap();
        assert_eq!(
            format!("{:?}", first.parsed_query().unwrap()),
            format!("{:?}", again.parsed_query().unwrap())
        );

        assert!(documents.parse(&mut Request::new("{ project(")).is_err());
        assert!(
            !documents.0.contains_key("{ project("),
            "a document that does not parse is not kept"
        );
    }

    #[test]
    fn the_cache_keeps_a_bounded_number_of_documents() {
        let documents = Documents::default();
        for i in 0..4 * MAX_DOCUMENTS {
            documents
                .parse(&mut Request::new(format!("{{ a{i}: __typename }}")))
                .unwrap();
        }
        documents.0.run_pending_tasks();
        assert!(documents.0.entry_count() <= MAX_DOCUMENTS);
    }
}
