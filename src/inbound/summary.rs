use serde_json::Value;

use super::fields::clip;

/// What a service's request amounts to.
#[derive(Debug)]
pub enum Reading {
    /// A set-up or liveness check (GitHub's `ping`, PagerDuty's
    /// `pagey.ping`, Slack's `url_verification`…): answered, nothing posted.
    Handshake(Value),
    Post(Summary),
}

/// A readable account of one inbound event: what happened and who did it
/// (`title`), the details worth seeing (`lines`), and where to look.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub title: String,
    pub lines: Vec<String>,
    pub link: Option<String>,
    /// A display name the sender asked for (Slack's `username`).
    pub author: Option<String>,
}

/// Chat messages and page bodies stay well under the workspace's limits.
const MAX_LINES: usize = 20;
const MAX_LINE_CHARS: usize = 1_000;
pub const MAX_TITLE_CHARS: usize = 200;

impl Summary {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    pub fn line(mut self, line: impl Into<String>) -> Self {
        let line = line.into();
        if !line.trim().is_empty() {
            self.lines.push(line);
        }
        self
    }

    /// Adds `label: value` when the value is there.
    pub fn field(self, label: &str, value: Option<String>) -> Self {
        match value {
            Some(v) => self.line(format!("{label}: {v}")),
            None => self,
        }
    }

    pub fn lines(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        for line in lines {
            self = self.line(line);
        }
        self
    }

    pub fn link(mut self, link: Option<String>) -> Self {
        self.link = link.filter(|l| !l.trim().is_empty());
        self
    }

    /// The title, one line and bounded: page and todo titles.
    pub fn headline(&self) -> String {
        let title = clip(self.title.lines().next().unwrap_or(""), MAX_TITLE_CHARS);
        if title.is_empty() {
            "(no title)".to_owned()
        } else {
            title
        }
    }

    /// The details and the link, one per line: page bodies and todo texts.
    pub fn details(&self) -> String {
        let mut out: Vec<String> = self
            .lines
            .iter()
            .take(MAX_LINES)
            .map(|l| clip(l, MAX_LINE_CHARS))
            .collect();
        if self.lines.len() > MAX_LINES {
            out.push(format!("… and {} more", self.lines.len() - MAX_LINES));
        }
        if let Some(link) = &self.link {
            out.push(link.clone());
        }
        out.join("\n")
    }

    /// Title, details and link: the chat message.
    pub fn message(&self) -> String {
        let details = self.details();
        let title = clip(&self.title, MAX_LINE_CHARS * 4);
        if details.is_empty() {
            title
        } else {
            format!("{title}\n{details}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_title_details_and_link() {
        let s = Summary::new("alice pushed 2 commits")
            .line("- abc fix")
            .field("Branch", Some("main".into()))
            .field("Missing", None)
            .link(Some("https://example.com/c".into()));
        assert_eq!(s.headline(), "alice pushed 2 commits");
        assert_eq!(
            s.details(),
            "- abc fix\nBranch: main\nhttps://example.com/c"
        );
        assert_eq!(
            s.message(),
            "alice pushed 2 commits\n- abc fix\nBranch: main\nhttps://example.com/c"
        );
    }

    #[test]
    fn bounds_long_summaries() {
        let s = Summary::new("x".repeat(500)).lines((0..30).map(|i| i.to_string()));
        assert_eq!(s.headline().chars().count(), MAX_TITLE_CHARS);
        assert!(s.details().ends_with("… and 10 more"));
        assert_eq!(Summary::new("  ").headline(), "(no title)");
    }
}
