//! Chargify: a form body, `event=…&payload[subscription][…]=…`.

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let kind = or(p, "/event", "event");
    let s = "/payload/subscription";
    let customer = first(
        p,
        &[&format!("{s}/customer/email"), "/payload/customer/email"],
    );
    Reading::Post(
        Summary::new(match &customer {
            Some(c) => format!("Chargify: {} for {c}", words(&kind)),
            None => format!("Chargify: {}", words(&kind)),
        })
        .field("Subscription", text(p, &format!("{s}/id")))
        .field("Product", text(p, &format!("{s}/product/name")))
        .field("State", text(p, &format!("{s}/state")))
        .field(
            "Amount",
            text(p, "/payload/transaction/amount_in_cents").map(|a| money(&a, "")),
        ),
    )
}
