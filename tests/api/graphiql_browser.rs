//! GraphiQL in a real browser: headless Chromium, driven through
//! chromedriver, with every address but the server's cut off. Without
//! Chromium the test says it was skipped; under `CI=true` it fails.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(30);

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary(env: &str, default: &str) -> Option<String> {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    std::path::Path::new(&path).exists().then_some(path)
}

/// Chromium and chromedriver, or `None` (and a note) outside CI.
fn browser() -> Option<(String, String)> {
    let found = (
        binary("CHROMIUM", "/usr/bin/chromium"),
        binary("CHROMEDRIVER", "/usr/bin/chromedriver"),
    );
    if let (Some(chromium), Some(driver)) = found {
        return Some((chromium, driver));
    }
    let missing = "Chromium and chromedriver (Debian: apt-get install chromium chromium-driver; \
                   or set CHROMIUM and CHROMEDRIVER)";
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("the browser test needs {missing}, and CI must run it");
    }
    eprintln!("skipped the browser test: it needs {missing}");
    None
}

async fn start_browser(chromium: &str, driver: &str) -> (Driver, Client) {
    let port = crate::helpers::free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900",
                // Nothing but loopback: every other host fails to resolve,
                // and any request that still went out meets a dead proxy.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=http://127.0.0.1:9",
            ],
        }
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let url = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return (driver, client),
            Err(e) if tokio::time::Instant::now() > deadline => {
                panic!("chromedriver did not start a session: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The element `locator` finds, once it is on the page.
async fn appears(
    client: &Client,
    locator: Locator<'_>,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    client.wait().at_most(WAIT).for_element(locator).await
}

/// The value of the first CodeMirror editor under `selector` whose text
/// contains `containing`, set to `value` when given.
async fn editor(client: &Client, selector: &str, containing: &str, value: Option<&str>) -> String {
    let script = "const [selector, containing, value] = arguments;
        const editor = [...document.querySelectorAll(selector + ' .CodeMirror')]
            .map(e => e.CodeMirror).find(cm => cm && cm.getValue().includes(containing));
        if (!editor) return null;
        if (value !== null) editor.setValue(value);
        return editor.getValue();";
    let value = client
        .execute(
            script,
            vec![json!(selector), json!(containing), json!(value)],
        )
        .await
        .unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn graphiql_renders_offline_shows_the_docs_and_runs_a_query() {
    let Some((chromium, driver)) = browser() else {
        return;
    };
    let app = spawn_app().await;
    let session = app.register("browser").await;
    let (_driver, client) = start_browser(&chromium, &driver).await;
    let result = async {
        client.goto(&format!("{}/graphql", app.address)).await?;
        appears(&client, Locator::Css(".graphiql-container")).await?;

        // The docs pane lists Query.me (its schema came by introspection).
        let docs = Locator::Css("button[aria-label*='Documentation Explorer']");
        appears(&client, docs).await?.click().await?;
        let query_type =
            "//a[contains(@class,'graphiql-doc-explorer-type-name') and text()='Query']";
        appears(&client, Locator::XPath(query_type))
            .await?
            .click()
            .await?;
        let me = "//a[contains(@class,'graphiql-doc-explorer-field-name') and text()='me']";
        appears(&client, Locator::XPath(me)).await?;

        // A query with the token in the Headers tab returns data.
        let headers = json!({ "Authorization": format!("Bearer {}", session.token) }).to_string();
        let set = editor(
            &client,
            ".graphiql-editor-tool",
            "Authorization",
            Some(&headers),
        )
        .await;
        assert!(
            set.contains(&session.token),
            "the Headers editor took the token: {set}"
        );
        editor(
            &client,
            ".graphiql-query-editor",
            "",
            Some("{ me { role user { email } } }"),
        )
        .await;
        client
            .find(Locator::Css(".graphiql-execute-button"))
            .await?
            .click()
            .await?;
        let deadline = tokio::time::Instant::now() + WAIT;
        let response = loop {
            let text = editor(&client, ".graphiql-response", "", None).await;
            if text.contains("OWNER") || tokio::time::Instant::now() > deadline {
                break text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let response: Value = serde_json::from_str(&response).unwrap_or(json!(response));
        assert_eq!(response["data"]["me"]["role"], "OWNER", "{response}");

        // Everything the page loaded came from the server.
        let loaded = client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await?;
        let server = format!("{}/", app.address);
        let loaded: Vec<String> = serde_json::from_value(loaded).unwrap();
        assert!(
            loaded
                .iter()
                .any(|url| url.ends_with("/graphiql/graphiql.min.js"))
        );
        for url in &loaded {
            assert!(
                url.starts_with(&server) || url.starts_with(&server.replace("http", "ws")),
                "{url} was fetched from outside"
            );
        }
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = client.close().await;
    result.expect("GraphiQL works in the browser");
}
