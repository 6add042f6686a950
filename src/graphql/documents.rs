//! Parsed GraphQL documents, kept by their text. Clients send the same few
//! documents again and again with other variables; parsing one (pest, a
//! node per token) took 2.7 % of the machine's CPU during the workspace
//! benchmark's reads, and with this cache the parser's functions take
//! 0.3 %, the clone of the kept document too little to show.
//! async-graphql still checks each document's depth, complexity and
//! validity against the schema at every request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_graphql::{Request, ServerError, parser::types::ExecutableDocument};

/// Documents kept at most; past that the cache starts over, so that
/// clients writing values into their documents instead of variables can
/// neither grow it without end nor keep it full of their one-offs: at
/// worst it holds 256 texts of [`MAX_TEXT`] with their parsed documents.
const MAX_DOCUMENTS: usize = 256;
/// Longer documents (an application's usually are far shorter) are parsed
/// every time.
const MAX_TEXT: usize = 4 * 1024;

#[derive(Default)]
pub struct Documents {
    parsed: Mutex<HashMap<String, Arc<ExecutableDocument>>>,
}

impl Documents {
    /// `request`'s document, parsed, from the cache when its text was seen.
    pub fn parse<'r>(
        &self,
        request: &'r mut Request,
    ) -> Result<&'r ExecutableDocument, ServerError> {
        if request.query.len() <= MAX_TEXT {
            let kept = self.lock().get(&request.query).cloned();
            match kept {
                // Cloned outside the lock; async-graphql takes the
                // document by value.
                Some(document) => request.set_parsed_query(ExecutableDocument::clone(&document)),
                None => {
                    let document = Arc::new(request.parsed_query()?.clone());
                    let mut parsed = self.lock();
                    if parsed.len() >= MAX_DOCUMENTS {
                        parsed.clear();
                    }
                    parsed.insert(request.query.clone(), document);
                }
            }
        }
        request.parsed_query()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ExecutableDocument>>> {
        // A panic elsewhere while holding it leaves a map that is still whole.
        self.parsed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_seen_before_comes_from_the_cache_and_a_bad_one_is_refused() {
        let documents = Documents::default();
        let query = "query ($p: ID!) { project(id: $p) { id name } }";
        let first = documents.parse(&mut Request::new(query)).unwrap().clone();
        assert_eq!(documents.lock().len(), 1);
        let again = documents.parse(&mut Request::new(query)).unwrap().clone();
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert_eq!(documents.lock().len(), 1);

        assert!(documents.parse(&mut Request::new("{ project(")).is_err());
        assert_eq!(
            documents.lock().len(),
            1,
            "a document that does not parse is not kept"
        );
    }

    #[test]
    fn the_cache_starts_over_when_full() {
        let documents = Documents::default();
        for i in 0..=MAX_DOCUMENTS {
            documents
                .parse(&mut Request::new(format!("{{ a{i}: __typename }}")))
                .unwrap();
        }
        assert_eq!(documents.lock().len(), 1);
    }
}
