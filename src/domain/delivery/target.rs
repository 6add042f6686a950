//! Which addresses outbound calls may reach. Targets that resolve to
//! loopback, private, link-local (cloud metadata included) or otherwise
//! non-public addresses are refused unless `ALLOW_PRIVATE_TARGETS` is set,
//! so a webhook cannot be aimed at the deployment's own network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

use crate::error::{AppError, AppResult};

/// Whether `ip` is an ordinary public address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(carried) = carried_v4(ip) {
        return carried.into_iter().flatten().all(is_public_v4);
    }
    let [first, second, third, ..] = ip.segments();
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside some sites)
        || first == 0x2001 && second == 0x0db8 // documentation
        || first == 0x0064 && second == 0xff9b && third == 1) // local-use NAT64, to any IPv4
}

/// The IPv4 addresses an IPv6 address of a transition form carries, where
/// a packet sent to it ends up: IPv4-compatible (`::a.b.c.d`), SIIT
/// (`::ffff:0:a.b.c.d`), 6to4 (`2002:aabb:ccdd::/48`), Teredo (its
/// server's, and its client's stored inverted) and the well-known NAT64
/// prefix (`64:ff9b::/96`). Such an address is as public as what it
/// carries: `[::127.0.0.1]` is loopback.
fn carried_v4(ip: Ipv6Addr) -> Option<[Option<Ipv4Addr>; 2]> {
    let s = ip.segments();
    let v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    let one = |address| Some([Some(address), None]);
    match s {
        [0, 0, 0, 0, 0, 0, high, low] => one(v4(high, low)),
        [0, 0, 0, 0, 0xffff, 0, high, low] => one(v4(high, low)),
        [0x2002, high, low, ..] => one(v4(high, low)),
        [0x2001, 0, high, low, _, _, client_high, client_low] => {
            Some([Some(v4(high, low)), Some(v4(!client_high, !client_low))])
        }
        [0x0064, 0xff9b, 0, 0, 0, 0, high, low] => one(v4(high, low)),
        _ => None,
    }
}

/// Parses a webhook or channel target: an absolute http(s) URL with a host
/// and no credentials.
pub fn parse_target(raw: &str) -> AppResult<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| AppError::validation(format!("`url` is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::validation("`url` must use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::validation("`url` must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::validation("`url` must not carry credentials"));
    }
    Ok(url)
}

/// Resolves the target's host and refuses it when any address is not
/// public (unless private targets are allowed).
pub async fn check_target(url: &Url, allow_private: bool) -> AppResult<()> {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| AppError::validation(format!("cannot resolve {host}: {e}")))?
            .map(|addr| addr.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(AppError::validation(format!("{host} has no addresses")));
    }
    if !allow_private && let Some(ip) = addresses.iter().find(|ip| !is_public(**ip)) {
        return Err(AppError::validation(format!(
            "{host} resolves to {ip}, a loopback, private or link-local address; \
             set ALLOW_PRIVATE_TARGETS=true to allow it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "fec0::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }

    /// IPv6 forms that carry an IPv4 address reach that address.
    #[test]
    fn ipv6_forms_carrying_a_private_ipv4_are_not_public() {
        for ip in [
            "::127.0.0.1",                          // IPv4-compatible
            "::10.0.0.1",                           //
            "::ffff:0:7f00:1",                      // SIIT, 127.0.0.1
            "::ffff:0:a9fe:a9fe",                   // SIIT, 169.254.169.254
            "2002:7f00:1::",                        // 6to4, 127.0.0.1
            "2002:c0a8:101::1",                     // 6to4, 192.168.1.1
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "2001:0:a00:1:8000:63bf:f7f7:f7f7",     // Teredo, server 10.0.0.1
            "64:ff9b::7f00:1",                      // NAT64, 127.0.0.1
            "64:ff9b::a9fe:a9fe",                   // NAT64, 169.254.169.254
            "64:ff9b:1::808:808",                   // local-use NAT64
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in [
            "2002:808:808::1",                      // 6to4, 8.8.8.8
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, both public
            "64:ff9b::808:808",                     // NAT64, 8.8.8.8
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }

    #[test]
    fn targets_must_be_http_urls_without_credentials() {
        assert!(parse_target("https://example.com/hook").is_ok());
        for bad in [
            "ftp://example.com",
            "not a url",
            "https://user:pw@example.com/",
            "file:///etc/passwd",
        ] {
            assert!(parse_target(bad).is_err(), "{bad} accepted");
        }
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_unless_allowed() {
        let url = parse_target("http://127.0.0.1:9/hook").unwrap();
        assert!(check_target(&url, false).await.is_err());
        assert!(check_target(&url, true).await.is_ok());
        let named = parse_target("http://localhost:9/hook").unwrap();
        assert!(check_target(&named, false).await.is_err());
        let metadata = parse_target("http://169.254.169.254/latest/meta-data").unwrap();
        assert!(check_target(&metadata, false).await.is_err());
    }
}
