//! Reading `tests/fixtures/inbound/<service>/<name>.http` and sending it.

use std::path::{Path, PathBuf};

use reqwest::{Method, Response};

use crate::helpers::TestApp;

pub struct Fixture {
    pub method: Method,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inbound")
}

/// `service/name` (without `.http`).
pub fn load(name: &str) -> Fixture {
    let path = root().join(format!("{name}.http"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    let (method, query) = match request_line.split_once(' ') {
        Some((m, q)) => (m, q.trim_start_matches('?')),
        None => (request_line, ""),
    };
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Fixture {
        method: method.parse().unwrap(),
        query: query.to_owned(),
        headers,
        body: body.trim_end_matches('\n').as_bytes().to_vec(),
    }
}

/// Every fixture, as `service/name`.
pub fn all() -> Vec<String> {
    let mut names = Vec::new();
    for service in std::fs::read_dir(root()).unwrap() {
        let service = service.unwrap().path();
        if !service.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&service).unwrap() {
            let file = file.unwrap().path();
            names.push(format!(
                "{}/{}",
                service.file_name().unwrap().to_str().unwrap(),
                file.file_stem().unwrap().to_str().unwrap()
            ));
        }
    }
    names.sort();
    names
}

impl Fixture {
    /// Sends the request to `path` with extra headers (signatures) added or
    /// replacing the fixture's.
    pub async fn send_with(&self, app: &TestApp, path: &str, extra: &[(&str, String)]) -> Response {
        let mut url = format!("{}{path}", app.address);
        if !self.query.is_empty() {
            url = format!("{url}?{}", self.query);
        }
        let mut request = app.client.request(self.method.clone(), url);
        for (k, v) in &self.headers {
            if !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)) {
                request = request.header(k, v);
            }
        }
        for (k, v) in extra {
            request = request.header(*k, v);
        }
        request.body(self.body.clone()).send().await.unwrap()
    }

    pub async fn send(&self, app: &TestApp, path: &str) -> Response {
        self.send_with(app, path, &[]).await
    }
}
