//! Bitbucket Cloud: the event kind is the `X-Event-Key` header.

use super::{Reading, Request, Service, Summary, fallback, fields::*, plural};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let event = r.header("x-event-key").unwrap_or_default();
    let who = first(p, &["/actor/display_name", "/actor/nickname"])
        .unwrap_or_else(|| "someone".to_owned());
    let repo = or(p, "/repository/full_name", "a repository");
    let summary = match event.split_once(':') {
        Some(("repo", "push")) => {
            let change = list(p, "/push/changes").first();
            let branch = change
                .and_then(|c| first(c, &["/new/name", "/old/name"]))
                .unwrap_or_else(|| "?".to_owned());
            let commits = change.map(|c| list(c, "/commits")).unwrap_or(&[]);
            let n = commits.len();
            Summary::new(format!(
                "{who} pushed {n} commit{} to {branch} of {repo}",
                plural(n)
            ))
            .lines(commits.iter().take(10).map(|c| {
                format!(
                    "- {} {}",
                    or(c, "/hash", "").chars().take(7).collect::<String>(),
                    first_line(&or(c, "/message", ""), 120)
                )
            }))
            .link(
                change
                    .and_then(|c| text(c, "/links/html/href"))
                    .or_else(|| text(p, "/repository/links/html/href")),
            )
        }
        Some(("pullrequest", action)) => {
            let verb = match action {
                "fulfilled" => "merged".to_owned(),
                "rejected" => "declined".to_owned(),
                "comment_created" => "commented on".to_owned(),
                other => words(other),
            };
            Summary::new(format!(
                "{who} {verb} pull request #{}: {} in {repo}",
                or(p, "/pullrequest/id", "?"),
                or(p, "/pullrequest/title", "")
            ))
            .line(clip(&or(p, "/comment/content/raw", ""), 500))
            .field(
                "Branch",
                text(p, "/pullrequest/source/branch/name").map(|s| {
                    format!(
                        "{s} → {}",
                        or(p, "/pullrequest/destination/branch/name", "?")
                    )
                }),
            )
            .link(text(p, "/pullrequest/links/html/href"))
        }
        Some(("issue", action)) => Summary::new(format!(
            "{who} {} issue #{}: {} in {repo}",
            if action == "comment_created" {
                "commented on".to_owned()
            } else {
                words(action)
            },
            or(p, "/issue/id", "?"),
            or(p, "/issue/title", "")
        ))
        .line(clip(&or(p, "/comment/content/raw", ""), 500))
        .link(text(p, "/issue/links/html/href")),
        _ => fallback(Service::Bitbucket, Some(event), p)
            .field("Repository", text(p, "/repository/full_name"))
            .link(text(p, "/repository/links/html/href")),
    };
    Reading::Post(summary)
}
