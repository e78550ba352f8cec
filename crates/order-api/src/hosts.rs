//! Which host a request was sent to, whether the service answers for it, and the links it
//! builds from it. A caller controls `Host` and every forwarded header, so they are believed
//! only as far as the operator said: forwarded headers only behind a proxy that sets them
//! (`TRUST_FORWARDED_HEADERS`), hosts only from `ALLOWED_HOSTS` when it is set, schemes
//! only `http` and `https`, and `PUBLIC_BASE_URL`, when set, over all of them.

use actix_web::http::header::{HeaderMap, FORWARDED, HOST};
use actix_web::HttpRequest;

use crate::config::HostSettings;
use crate::error::ApiError;

/// The operator's word on hosts, applied to requests.
#[derive(Clone, Debug)]
pub struct Hosts {
    settings: HostSettings,
}

/// Where a request says it was sent.
struct Origin {
    scheme: &'static str,
    /// `host[:port]`, lower-cased and checked.
    host: String,
}

impl Hosts {
    pub fn new(settings: HostSettings) -> Hosts {
        Hosts { settings }
    }

    /// Refuses a request whose host is malformed or not allowed.
    pub fn admit(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.origin(req).map(|_| ())
    }

    /// This request's URL without its query string, as the links it is answered with start.
    pub fn url_of(&self, req: &HttpRequest) -> Result<String, ApiError> {
        if let Some(base) = &self.settings.public_base_url {
            return Ok(format!("{base}{}", req.path()));
        }
        let origin = self.origin(req)?;
        Ok(format!("{}://{}{}", origin.scheme, origin.host, req.path()))
    }

    fn origin(&self, req: &HttpRequest) -> Result<Origin, ApiError> {
        let headers = req.headers();
        let (forwarded_host, forwarded_scheme) = if self.settings.trust_forwarded_headers {
            forwarded(headers)
        } else {
            (None, None)
        };
        let sent = || {
            let host = headers.get(HOST).map(|host| host.to_str().ok());
            // HTTP/2 carries the host in the URI, not in a header.
            host.or_else(|| req.uri().authority().map(|a| Some(a.as_str())))
        };
        let host = match forwarded_host.map(Some).or_else(sent) {
            Some(Some(host)) => host.to_ascii_lowercase(),
            Some(None) => return Err(refused("(not visible ASCII)")),
            // HTTP/1.0 may name no host: the address the request came in on.
            None => req.app_config().local_addr().to_string(),
        };
        let Some(name) = name_of(&host) else {
            return Err(refused(&host));
        };
        if !self.allows(name) {
            return Err(refused(&host));
        }
        let scheme = match forwarded_scheme {
            Some(scheme) => scheme,
            None if req.app_config().secure() => "https",
            None => "http",
        };
        Ok(Origin { scheme, host })
    }

    /// Whether `name` (no port) is in `ALLOWED_HOSTS`, or the list is empty.
    fn allows(&self, name: &str) -> bool {
        let name = name.strip_suffix('.').unwrap_or(name);
        let allowed = &self.settings.allowed_hosts;
        allowed.is_empty()
            || allowed
                .iter()
                .any(|pattern| match pattern.strip_prefix('.') {
                    _ if pattern == "*" => true,
                    Some(domain) => {
                        name == domain
                            || name
                                .strip_suffix(domain)
                                .is_some_and(|sub| sub.ends_with('.'))
                    }
                    None => name == pattern,
                })
    }
}

fn refused(host: &str) -> ApiError {
    let shown: String = host.chars().take(100).collect();
    tracing::warn!(host = %shown.escape_debug(), "refused a request for a host not served");
    ApiError::InvalidHost
}

/// The host name of a well-formed `host[:port]` (a DNS name, IPv4 address or bracketed
/// IPv6 address, as Django's host check reads them), or `None`.
fn name_of(host: &str) -> Option<&str> {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let (address, after) = rest.split_once(']')?;
            let valid = address.contains(':')
                && address
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            (valid.then_some(&host[..address.len() + 2])?, after)
        }
        None => match host.split_once(':') {
            Some((name, _)) => (name, &host[name.len()..]),
            None => (host, ""),
        },
    };
    let port_ok = match port.strip_prefix(':') {
        Some(digits) => {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => port.is_empty(),
    };
    let name_ok = name.starts_with('[')
        || (!name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    (port_ok && name_ok).then_some(name)
}

/// The host and scheme a proxy put in `Forwarded` (its first element) or, without it, in
/// `X-Forwarded-Host` and `X-Forwarded-Proto` (their first values). A scheme other than
/// `http` or `https` is not believed.
fn forwarded(headers: &HeaderMap) -> (Option<&str>, Option<&'static str>) {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let (mut host, mut proto) = (None, None);
    if let Some(element) = first(FORWARDED.as_str()) {
        for pair in element.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "host" => host = Some(value),
                "proto" => proto = Some(value),
                _ => {}
            }
        }
    } else {
        host = first("x-forwarded-host");
        proto = first("x-forwarded-proto");
    }
    let scheme = proto.and_then(|proto| match proto.to_ascii_lowercase().as_str() {
        "http" => Some("http"),
        "https" => Some("https"),
        _ => None,
    });
    (host, scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(allowed: &[&str]) -> Hosts {
        Hosts::new(HostSettings {
            allowed_hosts: allowed.iter().map(|h| h.to_string()).collect(),
            ..HostSettings::default()
        })
    }

    #[test]
    fn a_host_is_a_name_or_an_address_with_an_optional_port() {
        for good in [
            "api.example.com",
            "api.example.com:8005",
            "127.0.0.1:8005",
            "[::1]:8005",
            "[2001:db8::1]",
        ] {
            assert!(name_of(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "evil.example/path",
            "evil.example:",
            "evil.example:123456",
            "javascript:alert(1)",
            "a b",
            "[::1",
            "[zz]",
            "user@evil.example",
        ] {
            assert!(name_of(bad).is_none(), "{bad}");
        }
        assert_eq!(name_of("[::1]:80"), Some("[::1]"));
        assert_eq!(name_of("shop.example:443"), Some("shop.example"));
    }

    #[test]
    fn allowed_hosts_match_exactly_by_domain_or_all() {
        let list = hosts(&["api.example.com", ".shop.example"]);
        assert!(list.allows("api.example.com"));
        assert!(list.allows("api.example.com."));
        assert!(list.allows("shop.example"));
        assert!(list.allows("eu.shop.example"));
        assert!(!list.allows("evilshop.example"));
        assert!(!list.allows("example.com"));
        assert!(!list.allows("api.example.com.evil"));
        assert!(hosts(&["*"]).allows("anything.example"));
        assert!(hosts(&[]).allows("anything.example"));
    }

    #[test]
    fn forwarded_takes_its_first_element_and_only_http_s_schemes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            FORWARDED,
            "for=1.2.3.4;host=\"shop.example\";proto=https, host=evil.example"
                .parse()
                .unwrap(),
        );
        headers.insert(
            "x-forwarded-host".parse().unwrap(),
            "ignored.example".parse().unwrap(),
        );
        assert_eq!(forwarded(&headers), (Some("shop.example"), Some("https")));

        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-host".parse().unwrap(),
            "shop.example, proxy.internal".parse().unwrap(),
        );
        headers.insert(
            "x-forwarded-proto".parse().unwrap(),
            "javascript".parse().unwrap(),
        );
        assert_eq!(forwarded(&headers), (Some("shop.example"), None));
    }
}
