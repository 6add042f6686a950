//! Pivotal Tracker: v5 activity webhooks, with a ready-made `message`.

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let Some(message) = text(p, "/message") else {
        return Reading::Post(fallback(Service::PivotalTracker, text(p, "/kind"), p));
    };
    let story = list(p, "/primary_resources").first();
    Reading::Post(
        Summary::new(format!(
            "{message} in {}",
            or(p, "/project/name", "a project")
        ))
        .field("Story", story.and_then(|s| text(s, "/name")))
        .field("Type", story.and_then(|s| text(s, "/story_type")))
        .link(story.and_then(|s| text(s, "/url"))),
    )
}
