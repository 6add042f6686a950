//! One adapter per service: its common event kinds become readable
//! summaries; kinds it does not know get [`fallback`].

mod appsignal;
mod bitbucket;
mod chargebee;
mod chargify;
mod crashlytics;
mod datadog;
mod formstack;
mod fulcrum;
mod github;
mod hubspot;
mod incoming;
mod intercom;
mod jira;
mod librato;
mod mailchimp;
mod netlify;
mod olark;
mod opbeat;
mod opsgenie;
mod pagerduty;
mod paypal;
mod pivotaltracker;
mod postmark;
mod stripe;
mod supportbee;
mod yo;
mod zendesk;
mod zoho;

use serde_json::Value;

use super::{Reading, Request, Service, Summary, fields};

pub fn read(service: Service, r: &Request) -> Reading {
    use Service::*;
    match service {
        Incoming => incoming::read(r),
        AppSignal => appsignal::read(r),
        Bitbucket => bitbucket::read(r),
        Chargebee => chargebee::read(r),
        Chargify => chargify::read(r),
        Crashlytics => crashlytics::read(r),
        Datadog => datadog::read(r),
        Formstack => formstack::read(r),
        Fulcrum => fulcrum::read(r),
        GitHub => github::read(r),
        HubSpot => hubspot::read(r),
        Intercom => intercom::read(r),
        Jira => jira::read(r),
        Librato => librato::read(r),
        Mailchimp => mailchimp::read(r),
        Netlify => netlify::read(r),
        Olark => olark::read(r),
        Opbeat => opbeat::read(r),
        OpsGenie => opsgenie::read(r),
        PagerDuty => pagerduty::read(r),
        PayPal => paypal::read(r),
        PivotalTracker => pivotaltracker::read(r),
        Postmark => postmark::read(r),
        Stripe => stripe::read(r),
        SupportBee => supportbee::read(r),
        Yo => yo::read(r),
        Zendesk => zendesk::read(r),
        Zoho => zoho::read(r),
    }
}

/// The provider's delivery id, where the service sends one.
pub fn delivery_id(service: Service, r: &Request) -> Option<String> {
    let body = &r.payload;
    match service {
        Service::GitHub => r.header("x-github-delivery"),
        Service::Bitbucket => r.header("x-request-uuid"),
        Service::Jira => r.header("x-atlassian-webhook-identifier"),
        Service::Zendesk => r
            .header("x-zendesk-webhook-invocation-id")
            .or_else(|| fields::text(body, "/id")),
        Service::PagerDuty => fields::text(body, "/event/id"),
        Service::PayPal => r
            .header("paypal-transmission-id")
            .or_else(|| fields::text(body, "/id")),
        Service::Stripe | Service::Chargebee | Service::Intercom | Service::Chargify => {
            fields::text(body, "/id")
        }
        Service::PivotalTracker => fields::text(body, "/guid"),
        Service::HubSpot => {
            let ids: Vec<String> = fields::list(body, "")
                .iter()
                .filter_map(|e| fields::text(e, "/eventId"))
                .collect();
            (!ids.is_empty()).then(|| ids.join(","))
        }
        _ => None,
    }
}

/// What any payload can say about itself: the kind of event and its
/// top-level values.
pub fn fallback(service: Service, kind: Option<String>, payload: &Value) -> Summary {
    let kind = kind.unwrap_or_else(|| "notification".to_owned());
    let scalars = payload
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            let text = match value {
                Value::String(s) if !s.trim().is_empty() => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some(format!("{key}: {}", fields::clip(&text, 200)))
        })
        .take(8);
    Summary::new(format!(
        "{} sent {}",
        service.display_name(),
        fields::words(&kind)
    ))
    .lines(scalars)
}

/// "s" when `n` is not one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
