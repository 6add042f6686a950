//! GitHub: the event kind is the `X-GitHub-Event` header.

use serde_json::json;

use super::{Reading, Request, Service, Summary, fallback, fields::*, plural};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let event = r.header("x-github-event").unwrap_or_default();
    let who = or(p, "/sender/login", "someone");
    let repo = or(p, "/repository/full_name", "a repository");
    let action = or(p, "/action", "changed");
    Reading::Post(match event.as_str() {
        "ping" => {
            return Reading::Handshake(json!({
                "zen": text(p, "/zen"),
                "hook_id": p.pointer("/hook_id"),
            }));
        }
        "push" => {
            let reference = or(p, "/ref", "");
            let (what, name) = match reference.strip_prefix("refs/tags/") {
                Some(tag) => ("tag", tag.to_owned()),
                None => (
                    "branch",
                    reference.trim_start_matches("refs/heads/").to_owned(),
                ),
            };
            let pusher = first(p, &["/pusher/name", "/sender/login"]).unwrap_or(who);
            let commits = list(p, "/commits");
            let title = if p.pointer("/deleted") == Some(&json!(true)) {
                format!("{pusher} deleted {what} {name} of {repo}")
            } else if what == "tag" {
                format!("{pusher} pushed tag {name} to {repo}")
            } else {
                let n = commits.len();
                format!(
                    "{pusher} pushed {n} commit{} to {name} of {repo}",
                    plural(n)
                )
            };
            Summary::new(title)
                .lines(commits.iter().take(10).map(|c| {
                    format!(
                        "- {} {} ({})",
                        or(c, "/id", "").chars().take(7).collect::<String>(),
                        first_line(&or(c, "/message", ""), 120),
                        or(c, "/author/name", "unknown")
                    )
                }))
                .link(text(p, "/compare"))
        }
        "pull_request" => {
            let verb =
                if action == "closed" && p.pointer("/pull_request/merged") == Some(&json!(true)) {
                    "merged".to_owned()
                } else {
                    words(&action)
                };
            Summary::new(format!(
                "{who} {verb} pull request #{}: {} in {repo}",
                or(p, "/number", "?"),
                or(p, "/pull_request/title", "")
            ))
            .field(
                "Branch",
                first(p, &["/pull_request/head/ref"])
                    .map(|head| format!("{head} → {}", or(p, "/pull_request/base/ref", "?"))),
            )
            .link(text(p, "/pull_request/html_url"))
        }
        "issues" => Summary::new(format!(
            "{who} {} issue #{}: {} in {repo}",
            words(&action),
            or(p, "/issue/number", "?"),
            or(p, "/issue/title", "")
        ))
        .link(text(p, "/issue/html_url")),
        "issue_comment" => Summary::new(format!(
            "{who} commented on #{}: {} in {repo}",
            or(p, "/issue/number", "?"),
            or(p, "/issue/title", "")
        ))
        .line(clip(&or(p, "/comment/body", ""), 500))
        .link(first(p, &["/comment/html_url", "/issue/html_url"])),
        "release" => Summary::new(format!(
            "{who} {} release {} of {repo}",
            words(&action),
            first(p, &["/release/name", "/release/tag_name"]).unwrap_or_default()
        ))
        .link(text(p, "/release/html_url")),
        "workflow_run" => Summary::new(format!(
            "Workflow {} {} on {} of {repo}",
            or(p, "/workflow_run/name", "run"),
            first(p, &["/workflow_run/conclusion", "/workflow_run/status"]).unwrap_or(action),
            or(p, "/workflow_run/head_branch", "?")
        ))
        .field("Triggered by", text(p, "/workflow_run/actor/login"))
        .link(text(p, "/workflow_run/html_url")),
        _ => fallback(Service::GitHub, Some(event), p)
            .field("Repository", text(p, "/repository/full_name"))
            .field("By", text(p, "/sender/login"))
            .link(text(p, "/repository/html_url")),
    })
}
