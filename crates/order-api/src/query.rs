//! Query strings: typed access to parameters, a 400 naming any parameter the endpoint does
//! not know, and DRF-style pagination (numbered pages or an opaque keyset cursor).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use order_ports::store::{Page, PageRequest, Position, Total};
use serde::Serialize;

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;
/// How deep numbered pages of a list with cursors go: a page may not start past this row.
pub const MAX_NUMBERED_ROWS: u64 = 10_000;

/// The parameters of one request's query string, consumed as the endpoint reads them.
pub struct Params {
    pairs: Vec<(String, String)>,
    read: Vec<String>,
}

impl Params {
    pub fn parse(query: &str) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ApiError::field("non_field_errors", "The query string is malformed."))?;
        Ok(Params {
            pairs,
            read: Vec::new(),
        })
    }

    /// Every value of `name` (repeatable parameters such as `status`).
    pub fn all(&mut self, name: &str) -> Vec<String> {
        self.read.push(name.to_owned());
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The one value of `name`; repeating it is an error.
    pub fn one(&mut self, name: &'static str) -> Result<Option<String>, ApiError> {
        let mut values = self.all(name);
        match values.len() {
            0 => Ok(None),
            1 => Ok(values.pop()),
            _ => Err(ApiError::field(name, "Give this parameter once.")),
        }
    }

    /// Every value of a repeatable parameter, each parsed; a bad one names the parameter.
    pub fn all_parsed<T: std::str::FromStr>(
        &mut self,
        name: &'static str,
    ) -> Result<Vec<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.all(name)
            .iter()
            .map(|v| {
                v.parse()
                    .map_err(|e: T::Err| ApiError::field(name, e.to_string()))
            })
            .collect()
    }

    pub fn parsed<T: std::str::FromStr>(
        &mut self,
        name: &'static str,
        what: &str,
    ) -> Result<Option<T>, ApiError> {
        self.one(name)?
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::field(name, format!("\"{v}\" is not {what}.")))
            })
            .transpose()
    }

    pub fn datetime(&mut self, name: &'static str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.one(name)?
            .map(|v| {
                DateTime::parse_from_rfc3339(&v)
                    .ok()
                    .map(|d| d.with_timezone(&Utc))
                    // PostgreSQL's range is narrower than chrono's; no real filter goes
                    // outside these years.
                    .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
                    .ok_or(())
                    .map_err(|_| {
                        ApiError::field(
                            name,
                            "Enter an RFC 3339 date-time, e.g. 2026-11-25T10:00:00Z.",
                        )
                    })
            })
            .transpose()
    }

    /// Refuses any parameter the endpoint did not read.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.pairs.iter().find(|(k, _)| !self.read.contains(k)) {
            Some((unknown, _)) => Err(ApiError::field(unknown.clone(), "Unknown query parameter.")),
            None => Ok(()),
        }
    }

    fn pairs_without(&self, names: &[&str]) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !names.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

/// A page as DRF sends it: `{count, next, previous, results}` for numbered pages,
/// `{next, previous, results}` for cursor pages.
#[derive(Serialize)]
pub struct PageDocument<R> {
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_exact: Option<bool>,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<R>,
}

/// The paging parameters of a list, as the OpenAPI document describes them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Described, never read through this type: see [`Pagination`].
pub struct PageParams {
    #[param(minimum = 1, nullable = false)]
    page: Option<u64>,
    /// Default 20; a larger size than 100 is read as 100
    #[param(minimum = 1, nullable = false)]
    page_size: Option<i64>,
    /// Keyset pages: empty for the top, then the cursors of next/previous
    #[param(nullable = false)]
    cursor: Option<String>,
}

/// How a list is paged: `?page=N&page_size=M`, or `?cursor=` for keyset pages.
#[derive(Clone, Debug)]
pub struct Pagination {
    pub request: PageRequest,
    page_number: Option<u64>,
    /// The query string to carry into `next`/`previous`, without the paging parameters.
    carried: Vec<(String, String)>,
}

/// A numbered page: which rows, and how to render it.
pub struct Numbered {
    pub offset: u64,
    pub limit: u32,
    pub pagination: Pagination,
}

/// `page_size`: DRF caps an oversized page rather than refusing it. Any size the document's
/// int64 allows is read.
fn page_size(params: &mut Params, default_size: u32) -> Result<u32, ApiError> {
    match params.one("page_size")? {
        None => Ok(default_size),
        Some(v) => match v.parse::<i64>() {
            Ok(size) if size >= 1 => {
                Ok(u32::try_from(size).map_or(MAX_PAGE_SIZE, |size| size.min(MAX_PAGE_SIZE)))
            }
            _ => Err(ApiError::field(
                "page_size",
                "Enter a whole number from 1 to 100.",
            )),
        },
    }
}

/// The page's number and its first row's offset.
fn page_number(page: Option<&str>, limit: u32) -> Result<(u64, u64), ApiError> {
    let number = match page {
        None => 1,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or(ApiError::InvalidPage("Invalid page."))?,
    };
    Ok((number, (number - 1).saturating_mul(u64::from(limit))))
}

impl Pagination {
    /// Numbered or keyset pages, as the caller asks, 20 a page unless asked.
    pub fn from_params(params: &mut Params) -> Result<Pagination, ApiError> {
        let limit = page_size(params, DEFAULT_PAGE_SIZE)?;
        let cursor = params.one("cursor")?;
        let page = params.one("page")?;
        let carried = params.pairs_without(&["cursor", "page"]);
        let Some(cursor) = cursor else {
            let (number, offset) = page_number(page.as_deref(), limit)?;
            if offset >= MAX_NUMBERED_ROWS {
                // An OFFSET reads and throws away every row before it; a cursor goes
                // straight to its place, however deep.
                return Err(ApiError::field(
                    "page",
                    format!(
                        "Numbered pages end at row {MAX_NUMBERED_ROWS}; \
                         to go deeper, follow the cursors of ?cursor= (empty for the top)."
                    ),
                ));
            }
            return Ok(Pagination {
                request: PageRequest::Offset { offset, limit },
                page_number: Some(number),
                carried,
            });
        };
        if page.is_some() {
            return Err(ApiError::field(
                "page",
                "Use either page or cursor, not both.",
            ));
        }
        let request = match cursor.as_str() {
            "" => PageRequest::After { after: None, limit },
            token => decode_cursor(token, limit).ok_or(ApiError::InvalidPage("Invalid cursor."))?,
        };
        Ok(Pagination {
            request,
            page_number: None,
            carried,
        })
    }

    /// Numbered pages only (`?page=N&page_size=M`), `default_size` a page unless asked.
    pub fn numbered(params: &mut Params, default_size: u32) -> Result<Numbered, ApiError> {
        let limit = page_size(params, default_size)?;
        let page = params.one("page")?;
        let carried = params.pairs_without(&["page"]);
        let (number, offset) = page_number(page.as_deref(), limit)?;
        Ok(Numbered {
            offset,
            limit,
            pagination: Pagination {
                request: PageRequest::Offset { offset, limit },
                page_number: Some(number),
                carried,
            },
        })
    }

    /// The DRF page document: `{count, next, previous, results}` for numbered pages,
    /// `{next, previous, results}` for cursor pages.
    pub fn render<T: Listed, R: Serialize>(
        &self,
        base_url: &str,
        page: &Page<T>,
        represent: impl Fn(&T) -> R,
    ) -> Result<PageDocument<R>, ApiError> {
        let results: Vec<R> = page.items.iter().map(represent).collect();
        let url = |extra: Option<(&str, String)>| {
            let mut pairs = self.carried.clone();
            if let Some((k, v)) = extra {
                pairs.push((k.to_owned(), v));
            }
            match serde_urlencoded::to_string(&pairs).unwrap_or_default() {
                query if query.is_empty() => base_url.to_owned(),
                query => format!("{base_url}?{query}"),
            }
        };
        if let Some(number) = self.page_number {
            let total = page.total.unwrap_or(Total::Exact(0));
            if number > 1 && page.items.is_empty() {
                return Err(ApiError::InvalidPage("Invalid page."));
            }
            let next = page
                .has_more
                .then(|| url(Some(("page", (number + 1).to_string()))));
            let previous = match number {
                1 => None,
                2 => Some(url(None)),
                n => Some(url(Some(("page", (n - 1).to_string())))),
            };
            return Ok(PageDocument {
                count: Some(total.count()),
                // The filter has no kept count: counting stopped at the cap (docs/api.md).
                count_exact: matches!(total, Total::AtLeast(_)).then_some(false),
                next,
                previous,
                results,
            });
        }
        let cursor_url =
            |kind: char, item: &T| url(Some(("cursor", encode_cursor(kind, item.position()))));
        let (first, last) = (page.items.first(), page.items.last());
        let (next, previous) = match self.request {
            PageRequest::Before { .. } => (
                last.map(|item| cursor_url('a', item)),
                first
                    .filter(|_| page.has_more)
                    .map(|item| cursor_url('b', item)),
            ),
            PageRequest::After { after, .. } => (
                last.filter(|_| page.has_more)
                    .map(|item| cursor_url('a', item)),
                first
                    .filter(|_| after.is_some())
                    .map(|item| cursor_url('b', item)),
            ),
            PageRequest::Offset { .. } => (None, None),
        };
        Ok(PageDocument {
            count: None,
            count_exact: None,
            next,
            previous,
            results,
        })
    }
}

/// What a list is sorted by: `(created_at, id)`, the place a cursor marks.
pub trait Listed {
    fn position(&self) -> Position;
}

impl Listed for order_ports::HistoryEntry {
    fn position(&self) -> Position {
        Position {
            created_at: self.occurred_at,
            id: *self.event_id.as_uuid(),
        }
    }
}

impl Listed for order_domain::Order {
    fn position(&self) -> Position {
        Position {
            created_at: self.created_at,
            id: *self.id.as_uuid(),
        }
    }
}

impl Listed for order_domain::Dispute {
    fn position(&self) -> Position {
        Position {
            created_at: self.created_at,
            id: *self.id.as_uuid(),
        }
    }
}

/// `a` (rows after) or `b` (rows before) a position, as an opaque token.
fn encode_cursor(kind: char, position: Position) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{kind}:{}:{}",
        position.created_at.timestamp_micros(),
        position.id
    ))
}

fn decode_cursor(token: &str, limit: u32) -> Option<PageRequest> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = text.splitn(3, ':');
    let (kind, micros, id) = (parts.next()?, parts.next()?, parts.next()?);
    let position = Position {
        created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id: id.parse().ok()?,
    };
    match kind {
        "a" => Some(PageRequest::After {
            after: Some(position),
            limit,
        }),
        "b" => Some(PageRequest::Before {
            before: position,
            limit,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let position = Position {
            created_at: DateTime::from_timestamp_micros(1_764_064_800_123_456).unwrap(),
            id: uuid::Uuid::from_u128(7),
        };
        let token = encode_cursor('b', position);
        assert_eq!(
            decode_cursor(&token, 5),
            Some(PageRequest::Before {
                before: position,
                limit: 5
            })
        );
        assert_eq!(decode_cursor("not-a-cursor", 5), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("z:1:2"), 5), None);
    }

    #[test]
    fn unknown_parameters_are_named() {
        let mut params = Params::parse("status=PAID&colour=red").unwrap();
        params.all("status");
        let error = params.finish().unwrap_err().reply().1;
        assert_eq!(error, json!({"colour": ["Unknown query parameter."]}));
    }

    #[test]
    fn page_size_is_capped_at_100_and_must_be_positive() {
        // Up to the largest the document's int64 allows.
        for oversized in [
            "page_size=500",
            "page_size=2147483648",
            "page_size=9223372036854775807",
        ] {
            let mut params = Params::parse(oversized).unwrap();
            let pagination = Pagination::from_params(&mut params).unwrap();
            assert_eq!(
                pagination.request,
                PageRequest::Offset {
                    offset: 0,
                    limit: 100
                },
                "{oversized}"
            );
        }
        for refused in ["page_size=0", "page_size=9223372036854775808"] {
            let mut params = Params::parse(refused).unwrap();
            assert!(Pagination::from_params(&mut params).is_err(), "{refused}");
        }
    }
}
