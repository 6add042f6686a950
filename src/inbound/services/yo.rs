//! Yo: a GET (or form POST) with `username`, and a `link` or `location`.

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let who = or(p, "/username", "someone");
    let location = text(p, "/location").map(|l| {
        // Yo sends "lat;lng".
        let l = l.replace(';', ",");
        format!("https://maps.google.com/?q={l}")
    });
    Reading::Post(Summary::new(format!("Yo from {who}")).link(text(p, "/link").or(location)))
}
