//! A real HTTP receiver on loopback for delivery tests: it records every
//! request (headers, body, arrival time) and answers from a script.

use std::{
    collections::{HashSet, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::mpsc;

/// How the receiver answers a request.
#[derive(Clone, Debug)]
pub enum Answer {
    Ok,
    Status(u16, Option<&'static str>),
    Redirect,
    Slow(Duration),
    /// 503 with this `Retry-After` to a delivery's first request (by
    /// `webhook-id`), 200 to the next.
    FirstTryUnavailable(String),
}

#[derive(Debug)]
pub struct Captured {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Captured {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

struct Script {
    next: Mutex<VecDeque<Answer>>,
    otherwise: Mutex<Answer>,
    sink: mpsc::UnboundedSender<Captured>,
    tried: Mutex<HashSet<String>>,
}

pub struct Receiver {
    pub url: String,
    pub requests: mpsc::UnboundedReceiver<Captured>,
    script: Arc<Script>,
}

impl Receiver {
    /// Answers `answer` to every request until told otherwise.
    pub async fn start(answer: Answer) -> Self {
        let (sink, requests) = mpsc::unbounded_channel();
        let script = Arc::new(Script {
            next: Mutex::new(VecDeque::new()),
            otherwise: Mutex::new(answer),
            sink,
            tried: Mutex::default(),
        });
        let state = web::Data::from(script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(respond))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            requests,
            script,
        }
    }

    /// The next requests get these answers, in order, then the default.
    pub fn then(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script.next.lock().unwrap().extend(answers);
    }

    /// Changes the default answer.
    pub fn answer(&self, answer: Answer) {
        *self.script.otherwise.lock().unwrap() = answer;
    }

    /// The next request, or a failure after `within`.
    pub async fn next(&mut self, within: Duration) -> Captured {
        tokio::time::timeout(within, self.requests.recv())
            .await
            .expect("a request arrives in time")
            .expect("the receiver runs")
    }

    /// Receives requests until `count` distinct deliveries have been seen
    /// (within `within`), checking each carries its delivery id; returns
    /// how many requests that took.
    pub async fn collect(
        &mut self,
        seen: &mut HashSet<String>,
        count: usize,
        within: Duration,
    ) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        let mut requests = 0;
        while seen.len() < count {
            let request = tokio::time::timeout_at(deadline, self.requests.recv())
                .await
                .unwrap_or_else(|_| panic!("only {} of {count} deliveries arrived", seen.len()))
                .unwrap();
            assert_eq!(
                request.header("webhook-id"),
                request.header("x-junction-delivery")
            );
            seen.insert(request.header("webhook-id").to_owned());
            requests += 1;
        }
        requests
    }

    /// Whatever arrives within `within`.
    pub async fn drain(&mut self, within: Duration) -> Vec<Captured> {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some(request)) = tokio::time::timeout_at(deadline, self.requests.recv()).await
        {
            got.push(request);
        }
        got
    }
}

async fn respond(req: HttpRequest, body: web::Bytes, script: web::Data<Script>) -> HttpResponse {
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers() {
        headers.append(
            HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    let first_try = match headers.get("webhook-id") {
        Some(id) => (script.tried.lock().unwrap()).insert(id.to_str().unwrap_or("").to_owned()),
        None => true,
    };
    let _ = script.sink.send(Captured {
        headers,
        body: body.to_vec(),
        at: Instant::now(),
    });
    let answer = script
        .next
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| script.otherwise.lock().unwrap().clone());
    match answer {
        Answer::Ok => HttpResponse::Ok().body("thanks"),
        Answer::Status(code, retry_after) => {
            let mut response =
                HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap());
            if let Some(value) = retry_after {
                response.insert_header(("Retry-After", value));
            }
            response.body("slow down")
        }
        Answer::Redirect => HttpResponse::Found()
            .insert_header(("Location", "/elsewhere"))
            .finish(),
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            HttpResponse::Ok().finish()
        }
        Answer::FirstTryUnavailable(retry_after) if first_try => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", retry_after))
            .finish(),
        Answer::FirstTryUnavailable(_) => HttpResponse::Ok().finish(),
    }
}
