//! The repository's documentation stands alone: every link in the READMEs and docs/ is
//! either a web address or a file of this repository (and, with a `#fragment`, a heading
//! of that file). A renamed page or heading fails here, not in a reader's browser.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Markdown files a reader of the repository meets.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut found = vec![root.join("README.md")];
    for dir in ["docs", "crates"] {
        let mut stack = vec![root.join(dir)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "md") {
                    found.push(path);
                }
            }
        }
    }
    found
}

/// The targets of `[text](target)` links, code spans and fenced blocks left out.
fn links(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let outside_code: String = line
            .split('`')
            .enumerate()
            .filter(|(n, _)| n % 2 == 0)
            .map(|(_, part)| part)
            .collect();
        let mut rest = outside_code.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    found
}

/// GitHub's anchor of a heading: lower case, spaces to hyphens, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_link_in_the_docs_resolves_inside_the_repository() {
    let mut dead = Vec::new();
    let documents = documents();
    assert!(documents.len() > 5, "{documents:?}");
    for document in documents {
        let text = std::fs::read_to_string(&document).unwrap();
        for link in links(&text) {
            if link.starts_with("http://")
                || link.starts_with("https://")
                || link.starts_with("mailto:")
            {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                document.clone()
            } else {
                document.parent().unwrap().join(path)
            };
            let Ok(target) = target.canonicalize() else {
                dead.push(format!("{}: {link} (no such file)", document.display()));
                continue;
            };
            if !target.starts_with(root().canonicalize().unwrap()) {
                dead.push(format!(
                    "{}: {link} (outside the repository)",
                    document.display()
                ));
                continue;
            }
            if !fragment.is_empty() {
                let headings = std::fs::read_to_string(&target)
                    .map(|t| anchors(&t))
                    .unwrap_or_default();
                if !headings.iter().any(|h| h == fragment) {
                    dead.push(format!("{}: {link} (no such heading)", document.display()));
                }
            }
        }
    }
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn the_link_reader_finds_links_and_anchors_as_github_makes_them() {
    let text = "See [the API](docs/api.md#the-replay-feed), `[not](a link)`, and [x](../y).";
    assert_eq!(links(text), ["docs/api.md#the-replay-feed", "../y"]);
    assert_eq!(
        anchor(" Money moves in three steps"),
        "money-moves-in-three-steps"
    );
    assert_eq!(
        anchor(" `order-domain` as a library: 1, 2"),
        "order-domain-as-a-library-1-2"
    );
}

#[test]
fn no_source_comment_or_document_cites_a_section_of_a_document_outside_the_repository() {
    // Written in two halves, so that this file does not find itself.
    let citation = format!("SPEC {}", '§');
    let root = root();
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = ["crates", "docs", "scripts", "docker", "migrations"]
        .iter()
        .map(|dir| root.join(dir))
        .collect();
    let mut files = vec![root.join("README.md"), root.join("Makefile")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if line.contains(&citation) {
                found.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the repository speaks for itself:\n{}",
        found.join("\n")
    );
}
