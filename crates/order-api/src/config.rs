//! Configuration, from environment variables only (and an optional `.env`), validated
//! once at start so that a bad value stops the service with one line naming it.

use std::time::Duration;

use order_domain::FeeRate;
use order_peers::{GuardSettings, PeerConfig};
use order_postgres::MigrationLimits;

pub use crate::carrier_signature::CarrierSecret;

/// Why the configuration cannot be used: the variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Where and how spans are exported over OTLP/HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The collector's base URL; traces go to its `/v1/traces`.
    pub endpoint: String,
    /// JSON rather than protobuf (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`).
    pub json: bool,
    /// The `service.name` every span is exported under (`order-service`).
    pub service_name: String,
}

/// How user tokens are verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtKey {
    /// HS256 with `JWT_SECRET`.
    Secret(String),
    /// RS256 with the PEM of `JWT_PUBLIC_KEY`.
    PublicKey(String),
    /// Neither is set: no user token can be verified (only for trying the service out).
    Unset,
}

/// Which hosts the service answers for, and how it builds the links it returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// Every link starts with this, whatever the request says (no trailing slash).
    pub public_base_url: Option<String>,
    /// Host names a request may name; empty: any well-formed host.
    pub allowed_hosts: Vec<String>,
    /// Whether `Forwarded` and `X-Forwarded-Host`/`-Proto` name the host and scheme: only
    /// behind a proxy that sets them and drops what callers sent.
    pub trust_forwarded_headers: bool,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    /// A read replica for lists and histories (`DATABASE_READ_URL`); `None`: the primary.
    pub database_read_url: Option<String>,
    pub port: u16,
    pub jwt: JwtKey,
    /// The identity provider's JSON Web Key Set (`JWT_JWKS_URL`): user tokens naming one
    /// of its keys by `kid` are verified with it (RS256, ES256).
    pub jwt_jwks_url: Option<String>,
    /// The least time between two fetches of the key set (`JWT_JWKS_REFETCH_INTERVAL`,
    /// 30 s): a token naming an unknown `kid` fetches it again at most this often.
    pub jwt_jwks_refetch_interval: Duration,
    /// When set, a user token must carry this `aud` (`JWT_AUDIENCE`).
    pub jwt_audience: Option<String>,
    /// When set, a user token must carry this `iss` (`JWT_ISSUER`).
    pub jwt_issuer: Option<String>,
    /// When set, a user token must carry an `iat` no older than this (`JWT_MAX_AGE`).
    pub jwt_max_age: Option<Duration>,
    /// Browser origins allowed to call the API (`CORS_ALLOWED_ORIGINS`); none by default.
    pub cors_allowed_origins: Vec<String>,
    /// Which hosts the service answers for and how its links are built
    /// (`PUBLIC_BASE_URL`, `ALLOWED_HOSTS`, `TRUST_FORWARDED_HEADERS`).
    pub hosts: HostSettings,
    /// Tokens other services present in `X-Service-Token`.
    pub internal_service_tokens: Vec<String>,
    pub wallet: PeerConfig,
    pub listing: PeerConfig,
    pub fee_rate: FeeRate,
    pub auto_complete_after: Duration,
    /// How long after its delivery an order completes at the latest
    /// (`AUTO_COMPLETE_AFTER_DELIVERY`).
    pub auto_complete_after_delivery: Duration,
    /// How long after an order ended its personal data is kept
    /// (`PERSONAL_DATA_RETENTION`, 90 days).
    pub personal_data_retention: Duration,
    /// How often the erasure worker looks for orders to erase (`ERASURE_INTERVAL`): the
    /// longest an order whose erasure was asked for keeps its data once it has ended.
    pub erasure_interval: Duration,
    /// How often the orders changed lately are reconciled with the Wallet
    /// (`RECONCILE_INTERVAL`); unset, never.
    pub reconcile_interval: Option<Duration>,
    /// The secret carriers' updates are signed with (`CARRIER_WEBHOOK_SECRET`); unset, the
    /// carrier endpoint answers 404.
    pub carrier_webhook_secret: Option<CarrierSecret>,
    /// The deadline windows: `PAYMENT_WINDOW`, `SHIP_WITHIN`, `DISPUTE_RESPONSE_WINDOW`.
    pub payment_window: Duration,
    pub ship_within: Duration,
    pub dispute_response_window: Duration,
    pub auto_complete_interval: Duration,
    pub outbox_poll_interval: Duration,
    /// Refusals of an event by the bus after which it is parked (an unavailable bus never
    /// counts).
    pub outbox_max_attempts: u32,
    /// The longest wait between two probes of an unavailable bus.
    pub outbox_max_probe_interval: Duration,
    /// The wait before an event's first retry; it doubles with each further failure.
    pub outbox_retry_backoff: Duration,
    pub event_bus_name: Option<String>,
    pub event_source: String,
    /// Where the AWS SDK sends its calls instead of AWS (a local emulator).
    pub aws_endpoint_url: Option<String>,
    pub db_pool_size: usize,
    /// How long a Wallet movement's requester is given before the intent worker finishes
    /// it (`PAYMENT_RESUME_AFTER`).
    pub payment_resume_after: Duration,
    /// How often the deadline and intent workers sweep (`DEADLINE_INTERVAL`).
    pub deadline_interval: Duration,
    /// The Wallet's circuit breaker and concurrency cap (`WALLET_BREAKER_FAILURES`,
    /// `WALLET_BREAKER_COOLDOWN`, `WALLET_MAX_CONCURRENT_CALLS`).
    pub wallet_guard: GuardSettings,
    pub log_format: LogFormat,
    /// Where the service's spans are exported (`OTEL_EXPORTER_OTLP_ENDPOINT`, with
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` and `OTEL_SERVICE_NAME`); unset, none are.
    pub otlp: Option<OtlpSettings>,
    pub migrate_on_start: bool,
    /// How migrations keep from stalling writes (`MIGRATION_LOCK_TIMEOUT`,
    /// `MIGRATION_STATEMENT_TIMEOUT`, `MIGRATION_ATTEMPTS`).
    pub migration_limits: MigrationLimits,
}

impl Config {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let vars = Vars(&lookup);
        let peer_token = vars
            .text("PEER_SERVICE_TOKEN")
            .unwrap_or_else(|| "dev-peer-token".into());
        let peer = |variable: &'static str, default: &str| -> Result<PeerConfig, ConfigError> {
            let url = vars.text(variable).unwrap_or_else(|| default.into());
            let mut config = PeerConfig::new(url, peer_token.clone());
            config.connect_timeout =
                vars.duration("PEER_CONNECT_TIMEOUT", config.connect_timeout)?;
            config.timeout = vars.duration("PEER_TIMEOUT", config.timeout)?;
            config.max_retries = vars.parsed("PEER_MAX_RETRIES", config.max_retries)?;
            http_url(variable, config.base_url.clone())?;
            Ok(config)
        };
        let jwt = match (vars.text("JWT_SECRET"), vars.text("JWT_PUBLIC_KEY")) {
            (_, Some(pem)) => {
                if !pem.contains("BEGIN PUBLIC KEY") {
                    return Err(refused(
                        "JWT_PUBLIC_KEY",
                        "expected a PEM-encoded RSA public key",
                    ));
                }
                JwtKey::PublicKey(pem)
            }
            (Some(secret), None) if secret.len() < 16 => {
                return Err(refused("JWT_SECRET", "must be at least 16 characters"))
            }
            (Some(secret), None) => JwtKey::Secret(secret),
            (None, None) => JwtKey::Unset,
        };
        let internal_service_tokens: Vec<String> = vars
            .text("INTERNAL_SERVICE_TOKENS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Config {
            database_url: postgres_url(
                "DATABASE_URL",
                vars.text("DATABASE_URL").ok_or(refused(
                    "DATABASE_URL",
                    "is required (e.g. postgres://postgres@127.0.0.1:5432/orders)",
                ))?,
            )?,
            database_read_url: vars
                .text("DATABASE_READ_URL")
                .map(|url| postgres_url("DATABASE_READ_URL", url))
                .transpose()?,
            port: vars.parsed("PORT", 8005)?,
            jwt,
            jwt_jwks_url: vars
                .text("JWT_JWKS_URL")
                .map(|url| http_url("JWT_JWKS_URL", url))
                .transpose()?,
            jwt_jwks_refetch_interval: vars
                .period("JWT_JWKS_REFETCH_INTERVAL", Duration::from_secs(30))?,
            jwt_audience: vars.text("JWT_AUDIENCE"),
            jwt_issuer: vars.text("JWT_ISSUER"),
            jwt_max_age: vars.optional_period("JWT_MAX_AGE")?,
            hosts: HostSettings {
                public_base_url: vars
                    .text("PUBLIC_BASE_URL")
                    .map(public_base_url)
                    .transpose()?,
                allowed_hosts: allowed_hosts(vars.text("ALLOWED_HOSTS"))?,
                trust_forwarded_headers: vars.parsed("TRUST_FORWARDED_HEADERS", false)?,
            },
            cors_allowed_origins: origins(vars.text("CORS_ALLOWED_ORIGINS"))?,
            internal_service_tokens,
            wallet: peer("WALLET_URL", "http://127.0.0.1:8006/api/v1/wallet")?,
            listing: peer("LISTING_URL", "http://127.0.0.1:8006/api/v1/listings")?,
            fee_rate: vars.parsed("FEE_RATE", FeeRate::default())?,
            auto_complete_after: vars
                .window("AUTO_COMPLETE_AFTER", Duration::from_secs(7 * 24 * 3600))?,
            auto_complete_after_delivery: vars
                .window("AUTO_COMPLETE_AFTER_DELIVERY", Duration::from_secs(3 * DAY))?,
            carrier_webhook_secret: vars.text("CARRIER_WEBHOOK_SECRET").map(CarrierSecret::new),
            personal_data_retention: vars
                .period("PERSONAL_DATA_RETENTION", Duration::from_secs(90 * DAY))?,
            erasure_interval: vars.period("ERASURE_INTERVAL", Duration::from_secs(60))?,
            reconcile_interval: vars.optional_period("RECONCILE_INTERVAL")?,
            auto_complete_interval: vars
                .period("AUTO_COMPLETE_INTERVAL", Duration::from_secs(60))?,
            payment_window: vars.window("PAYMENT_WINDOW", Duration::from_secs(4 * DAY))?,
            ship_within: vars.window("SHIP_WITHIN", Duration::from_secs(4 * DAY))?,
            dispute_response_window: vars
                .window("DISPUTE_RESPONSE_WINDOW", Duration::from_secs(3 * DAY))?,
            outbox_poll_interval: vars.period("OUTBOX_POLL_INTERVAL", Duration::from_secs(1))?,
            outbox_max_attempts: vars.count("OUTBOX_MAX_ATTEMPTS", 10)?,
            outbox_retry_backoff: vars.duration("OUTBOX_RETRY_BACKOFF", Duration::from_secs(1))?,
            outbox_max_probe_interval: vars
                .period("OUTBOX_MAX_PROBE_INTERVAL", Duration::from_secs(30))?,
            event_bus_name: vars.text("EVENT_BUS_NAME"),
            event_source: vars
                .text("EVENT_SOURCE")
                .unwrap_or_else(|| "marketplace.orders".into()),
            aws_endpoint_url: vars.text("AWS_ENDPOINT_URL"),
            db_pool_size: vars.count("DB_POOL_SIZE", 10)?,
            payment_resume_after: vars.window("PAYMENT_RESUME_AFTER", Duration::from_secs(120))?,
            deadline_interval: vars.period("DEADLINE_INTERVAL", Duration::from_secs(60))?,
            wallet_guard: GuardSettings {
                failure_threshold: vars.count("WALLET_BREAKER_FAILURES", 5)?,
                cooldown: vars.period("WALLET_BREAKER_COOLDOWN", Duration::from_secs(10))?,
                max_concurrent_calls: vars.count("WALLET_MAX_CONCURRENT_CALLS", 32)?,
            },
            log_format: match vars.text("LOG_FORMAT").as_deref() {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    let problem = format!("\"{other}\" is neither json nor pretty");
                    return Err(refused("LOG_FORMAT", problem));
                }
            },
            otlp: match vars.text("OTEL_EXPORTER_OTLP_ENDPOINT") {
                None => None,
                Some(endpoint) => Some(OtlpSettings {
                    endpoint: http_url("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)?,
                    json: match vars.text("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
                        None | Some("http/protobuf") => false,
                        Some("http/json") => true,
                        Some(other) => {
                            let offered =
                                "neither http/protobuf nor http/json (grpc is not offered)";
                            let problem = format!("\"{other}\" is {offered}");
                            return Err(refused("OTEL_EXPORTER_OTLP_PROTOCOL", problem));
                        }
                    },
                    service_name: vars
                        .text("OTEL_SERVICE_NAME")
                        .unwrap_or_else(|| "order-service".into()),
                }),
            },
            migrate_on_start: vars.parsed("MIGRATE_ON_START", true)?,
            migration_limits: MigrationLimits {
                lock_timeout: vars.period(
                    "MIGRATION_LOCK_TIMEOUT",
                    MigrationLimits::default().lock_timeout,
                )?,
                statement_timeout: vars.period(
                    "MIGRATION_STATEMENT_TIMEOUT",
                    MigrationLimits::default().statement_timeout,
                )?,
                attempts: vars.count("MIGRATION_ATTEMPTS", MigrationLimits::default().attempts)?,
                ..MigrationLimits::default()
            },
        })
    }
}

const DAY: u64 = 24 * 3600;

fn refused(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// `url` if it is an http:// or https:// URL.
fn http_url(variable: &'static str, url: String) -> Result<String, ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(refused(
            variable,
            format!("\"{url}\" is not an http(s) URL"),
        ))
    }
}

/// A PostgreSQL connection URL, as the pool takes it: checked at start, so that a typo
/// stops the service with one line instead of failing every list later.
fn postgres_url(variable: &'static str, url: String) -> Result<String, ConfigError> {
    let rest = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme));
    if rest.is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace)) {
        Ok(url)
    } else {
        Err(refused(
            variable,
            format!("\"{url}\" is not a postgres:// URL"),
        ))
    }
}

/// `CORS_ALLOWED_ORIGINS`: a comma list of exact origins, each `scheme://host[:port]`
/// with nothing after it (what a browser sends in `Origin`).
fn origins(list: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let exact = origin
                .parse::<actix_web::http::Uri>()
                .ok()
                .filter(|uri| match (uri.scheme_str(), uri.authority()) {
                    (Some(scheme @ ("http" | "https")), Some(authority)) => {
                        format!("{scheme}://{authority}") == origin
                    }
                    _ => false,
                });
            match exact {
                Some(_) => Ok(origin.to_owned()),
                None => {
                    let like = "like https://shop.example.com (scheme, host, optional port, nothing after)";
                    let problem = format!("\"{origin}\" is not an origin {like}");
                    Err(refused("CORS_ALLOWED_ORIGINS", problem))
                }
            }
        })
        .collect()
}

/// `PUBLIC_BASE_URL`: where callers reach the service, `scheme://host[:port][/prefix]`, kept
/// without its trailing slash so that a request's path can follow it.
fn public_base_url(url: String) -> Result<String, ConfigError> {
    let refused = |problem: String| refused("PUBLIC_BASE_URL", problem);
    let uri = url.parse::<actix_web::http::Uri>().map_err(|e| {
        refused(format!(
            "\"{url}\" is not a URL like https://api.example.com ({e})"
        ))
    })?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(authority))
            if uri.query().is_none() && !authority.as_str().contains('@') =>
        {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(refused(format!(
            "\"{url}\" is not an http(s) URL with a host and no query, like https://api.example.com"
        ))),
    }
}

/// `ALLOWED_HOSTS`: a comma list of host names (no port), `.example.com` for a domain and
/// its subdomains, or `*`; lower-cased, as hosts compare.
fn allowed_hosts(list: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(|host| {
            let name = host.strip_prefix('.').unwrap_or(host);
            let valid = host == "*"
                || (!name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b)));
            if valid {
                Ok(host.to_ascii_lowercase())
            } else {
                let like = "like api.example.com, .example.com or *";
                let problem = format!("\"{host}\" is not a host name {like}");
                Err(refused("ALLOWED_HOSTS", problem))
            }
        })
        .collect()
}

/// The longest window a deadline may be set with: longer ones could not be stored.
const LONGEST_WINDOW: Duration = Duration::from_secs(3650 * DAY);

struct Vars<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Vars<'_, F> {
    /// The variable's value; unset and blank are the same.
    fn text(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parsed<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.text(name) {
            None => Ok(default),
            Some(value) => value
                .parse()
                .map_err(|e| refused(name, format!("\"{value}\" is not valid: {e}"))),
        }
    }

    /// A number of things (attempts, connections, calls): at least 1.
    fn count<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + Default + PartialEq,
        T::Err: std::fmt::Display,
    {
        let count = self.parsed(name, default)?;
        if count == T::default() {
            return Err(refused(name, "must be at least 1"));
        }
        Ok(count)
    }

    /// How often, or how long, something is done: longer than 0.
    fn period(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let period = self.duration(name, default)?;
        if period.is_zero() {
            return Err(refused(name, "must be longer than 0"));
        }
        Ok(period)
    }

    /// A period that is off unless set.
    fn optional_period(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        self.text(name)
            .map(|_| self.period(name, Duration::ZERO))
            .transpose()
    }

    /// A deadline's window, which an order stores: longer than 0, at most
    /// [`LONGEST_WINDOW`].
    fn window(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let window = self.period(name, default)?;
        if window > LONGEST_WINDOW {
            return Err(refused(name, "must be at most 3650d"));
        }
        Ok(window)
    }

    /// Durations are written like `7d`, `90s` or `250ms`.
    fn duration(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        match self.text(name) {
            None => Ok(default),
            Some(value) => humantime::parse_duration(&value).map_err(|e| {
                let problem = format!("\"{value}\" is not a duration like 7d, 90s or 250ms ({e})");
                refused(name, problem)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    /// The configuration from `vars` and a database URL.
    fn configured(vars: &[(&str, &str)]) -> Config {
        let mut all = vec![("DATABASE_URL", "postgres://x/y")];
        all.extend_from_slice(vars);
        config(&all).unwrap()
    }

    fn refused(vars: &[(&str, &str)]) -> &'static str {
        let mut all = vec![("DATABASE_URL", "postgres://localhost/orders")];
        all.extend_from_slice(vars);
        config(&all).unwrap_err().variable
    }

    #[test]
    fn only_the_database_url_is_required() {
        assert_eq!(config(&[]).unwrap_err().variable, "DATABASE_URL");
        let config = config(&[("DATABASE_URL", "postgres://localhost/orders")]).unwrap();
        assert_eq!(config.port, 8005);
        assert_eq!(config.fee_rate, FeeRate::default());
        assert_eq!(config.auto_complete_after, Duration::from_secs(604_800));
        assert_eq!(config.payment_window, Duration::from_secs(4 * DAY));
        assert_eq!(config.ship_within, Duration::from_secs(4 * DAY));
        assert_eq!(config.dispute_response_window, Duration::from_secs(3 * DAY));
        assert_eq!(config.payment_resume_after, Duration::from_secs(120));
        assert_eq!(config.deadline_interval, Duration::from_secs(60));
        assert_eq!(config.event_source, "marketplace.orders");
        assert_eq!(config.jwt, JwtKey::Unset);
        assert!(config.migrate_on_start);
    }

    #[test]
    fn durations_read_like_7d_90s_250ms() {
        let config = configured(&[
            ("AUTO_COMPLETE_AFTER", "7d"),
            ("AUTO_COMPLETE_INTERVAL", "90s"),
            ("OUTBOX_POLL_INTERVAL", "250ms"),
        ]);
        assert_eq!(config.auto_complete_after, Duration::from_secs(604_800));
        assert_eq!(config.auto_complete_interval, Duration::from_secs(90));
        assert_eq!(config.outbox_poll_interval, Duration::from_millis(250));
    }

    #[test]
    fn migrations_wait_a_second_per_lock_unless_told_otherwise() {
        let default = configured(&[]);
        assert_eq!(default.migration_limits, MigrationLimits::default());
        let told = configured(&[
            ("MIGRATION_LOCK_TIMEOUT", "250ms"),
            ("MIGRATION_STATEMENT_TIMEOUT", "2h"),
            ("MIGRATION_ATTEMPTS", "5"),
        ]);
        assert_eq!(
            told.migration_limits.lock_timeout,
            Duration::from_millis(250)
        );
        assert_eq!(
            told.migration_limits.statement_timeout,
            Duration::from_secs(7200)
        );
        assert_eq!(told.migration_limits.attempts, 5);
    }

    #[test]
    fn spans_are_exported_only_where_an_otlp_endpoint_is_set() {
        assert_eq!(configured(&[]).otlp, None);
        let exporting = configured(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]);
        assert_eq!(
            exporting.otlp,
            Some(OtlpSettings {
                endpoint: "http://collector:4318".into(),
                json: false,
                service_name: "order-service".into(),
            })
        );
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert_eq!(
            refused(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]),
            "OTEL_EXPORTER_OTLP_PROTOCOL"
        );
    }

    #[test]
    fn each_bad_value_is_named() {
        let bad = [
            ("PORT", "eighty"),
            ("FEE_RATE", "1.5"),
            ("AUTO_COMPLETE_AFTER", "soon"),
            ("OUTBOX_POLL_INTERVAL", "0s"),
            ("DB_POOL_SIZE", "0"),
            ("PAYMENT_RESUME_AFTER", "0s"),
            ("PAYMENT_WINDOW", "later"),
            ("SHIP_WITHIN", "0d"),
            ("DISPUTE_RESPONSE_WINDOW", "99999d"),
            ("DEADLINE_INTERVAL", "often"),
            ("WALLET_BREAKER_FAILURES", "0"),
            ("WALLET_BREAKER_COOLDOWN", "0ms"),
            ("WALLET_MAX_CONCURRENT_CALLS", "-1"),
            ("LOG_FORMAT", "xml"),
            ("JWT_SECRET", "short"),
            ("CORS_ALLOWED_ORIGINS", "https://shop.example.com/"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("WALLET_URL", "wallet:8006"),
            ("MIGRATE_ON_START", "maybe"),
            ("DATABASE_READ_URL", "standby:5432/orders"),
            ("MIGRATION_ATTEMPTS", "0"),
            ("MIGRATION_LOCK_TIMEOUT", "0s"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("JWT_JWKS_URL", "id.example.com/jwks"),
            ("JWT_JWKS_REFETCH_INTERVAL", "0s"),
            ("PUBLIC_BASE_URL", "javascript://x"),
            ("PUBLIC_BASE_URL", "api.example.com"),
            ("PUBLIC_BASE_URL", "https://api.example.com/?a=1"),
            ("PUBLIC_BASE_URL", "https://user@api.example.com"),
            ("ALLOWED_HOSTS", "a b"),
            ("ALLOWED_HOSTS", "evil/"),
            ("TRUST_FORWARDED_HEADERS", "yes please"),
            ("JWT_MAX_AGE", "0s"),
            ("JWT_MAX_AGE", "forever"),
        ];
        for (variable, value) in bad {
            assert_eq!(refused(&[(variable, value)]), variable, "{value}");
        }
        assert_eq!(
            config(&[("DATABASE_URL", "localhost/orders")])
                .unwrap_err()
                .variable,
            "DATABASE_URL"
        );
    }

    #[test]
    fn a_read_replica_is_optional() {
        let without = configured(&[]);
        assert_eq!(without.database_read_url, None);
        let with = configured(&[("DATABASE_READ_URL", "postgresql://reader@standby:5433/y")]);
        assert_eq!(
            with.database_read_url.as_deref(),
            Some("postgresql://reader@standby:5433/y")
        );
    }

    #[test]
    fn allowed_origins_are_a_comma_list_of_exact_origins() {
        let config = configured(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://shop.example.com, http://localhost:3000",
        )]);
        assert_eq!(
            config.cors_allowed_origins,
            ["https://shop.example.com", "http://localhost:3000"]
        );
    }

    #[test]
    fn service_tokens_are_a_comma_list() {
        let config = configured(&[("INTERNAL_SERVICE_TOKENS", "auction-token, wallet-token,,")]);
        assert_eq!(
            config.internal_service_tokens,
            ["auction-token", "wallet-token"]
        );
    }

    #[test]
    fn a_key_set_is_an_http_s_url_fetched_again_at_most_every_30_s_by_default() {
        let config = configured(&[(
            "JWT_JWKS_URL",
            "https://id.example.com/.well-known/jwks.json",
        )]);
        assert_eq!(
            config.jwt_jwks_url.as_deref(),
            Some("https://id.example.com/.well-known/jwks.json")
        );
        assert_eq!(config.jwt_jwks_refetch_interval, Duration::from_secs(30));
    }

    #[test]
    fn hosts_and_links_default_to_the_requests_own_host_trusting_no_proxy() {
        let config = configured(&[]);
        assert_eq!(config.hosts, HostSettings::default());
        assert_eq!(config.jwt_max_age, None);
    }

    #[test]
    fn a_public_base_url_is_an_http_s_url_kept_without_its_trailing_slash() {
        let config = configured(&[
            ("PUBLIC_BASE_URL", "https://api.example.com/orders/"),
            ("ALLOWED_HOSTS", "API.example.com, .internal, *"),
            ("TRUST_FORWARDED_HEADERS", "true"),
            ("JWT_MAX_AGE", "12h"),
        ]);
        assert_eq!(
            config.hosts,
            HostSettings {
                public_base_url: Some("https://api.example.com/orders".into()),
                allowed_hosts: vec!["api.example.com".into(), ".internal".into(), "*".into()],
                trust_forwarded_headers: true,
            }
        );
        assert_eq!(config.jwt_max_age, Some(Duration::from_secs(12 * 3600)));
    }
}
