//! The 28 services BeTalk integrates, by the names its API uses.

use std::{fmt, str::FromStr};

use crate::error::AppError;

macro_rules! services {
    ($($variant:ident => $name:literal, $display:literal;)*) => {
        /// A third-party service an integration receives webhooks from.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Service { $($variant),* }

        /// Every service, in the seed's order, with its display name.
        pub const SERVICES: &[Service] = &[$(Service::$variant),*];

        impl Service {
            /// The API name (`github`, `pagerduty`, …).
            pub fn as_str(self) -> &'static str {
                match self { $(Service::$variant => $name),* }
            }

            /// How the service calls itself: the author of what it posts.
            pub fn display_name(self) -> &'static str {
                match self { $(Service::$variant => $display),* }
            }
        }
    };
}

services! {
    Incoming => "incoming", "Incoming webhook";
    AppSignal => "appsignal", "AppSignal";
    Bitbucket => "bitbucket", "Bitbucket";
    Chargebee => "chargebee", "Chargebee";
    Chargify => "chargify", "Chargify";
    Crashlytics => "crashlytics", "Crashlytics";
    Datadog => "datadog", "Datadog";
    Formstack => "formstack", "Formstack";
    Fulcrum => "fulcrum", "Fulcrum";
    GitHub => "github", "GitHub";
    HubSpot => "hubspot", "HubSpot";
    Intercom => "intercom", "Intercom";
    Jira => "jira", "Jira";
    Librato => "librato", "Librato";
    Mailchimp => "mailchimp", "Mailchimp";
    Netlify => "netlify", "Netlify";
    Olark => "olark", "Olark";
    Opbeat => "opbeat", "Opbeat";
    OpsGenie => "opsgenie", "OpsGenie";
    PagerDuty => "pagerduty", "PagerDuty";
    PayPal => "paypal", "PayPal";
    PivotalTracker => "pivotaltracker", "Pivotal Tracker";
    Postmark => "postmark", "Postmark";
    Stripe => "stripe", "Stripe";
    SupportBee => "supportbee", "SupportBee";
    Yo => "yo", "Yo";
    Zendesk => "zendesk", "Zendesk";
    Zoho => "zoho", "Zoho";
}

impl FromStr for Service {
    type Err = AppError;

    /// Case-insensitive, as the seed writes `GitHub`, `JIRA` and `ZOHO`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        SERVICES
            .iter()
            .copied()
            .find(|service| service.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = SERVICES.iter().map(|s| s.as_str()).collect();
                AppError::validation(format!(
                    "unknown service {s:?}; expected one of: {}",
                    names.join(", ")
                ))
            })
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_the_seeds_28_services_parsed_case_insensitively() {
        assert_eq!(SERVICES.len(), 28);
        assert_eq!("GitHub".parse::<Service>().unwrap(), Service::GitHub);
        assert_eq!("JIRA".parse::<Service>().unwrap(), Service::Jira);
        assert_eq!(" ZOHO ".parse::<Service>().unwrap(), Service::Zoho);
        for service in SERVICES {
            assert_eq!(service.as_str().parse::<Service>().unwrap(), *service);
        }
        let err = "gitlab".parse::<Service>().unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
        assert!(err.to_string().contains("pivotaltracker"));
    }
}
