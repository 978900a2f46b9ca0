//! A program's command line as a scenario writes it: argv words with `{name}` placeholders
//! that wschaos fills in per launch (`{url}`, `{index}`, `{count}`, `{seed}` for a client,
//! `{port}` for a server). `{{` and `}}` stand for literal braces. Validation checks the names
//! with [`placeholders`]; a launch fills them with [`expand`].

/// The placeholders of a client's command.
pub const CLIENT_PLACEHOLDERS: [&str; 4] = ["url", "index", "count", "seed"];

/// The placeholders of a server's command.
pub const SERVER_PLACEHOLDERS: [&str; 1] = ["port"];

/// The placeholder names in `word`, in order, or why the word cannot be read.
pub fn placeholders(word: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    scan(word, |piece| {
        if let Piece::Name(name) = piece {
            names.push(name);
        }
    })?;
    Ok(names)
}

/// `word` with each placeholder replaced by `value(name)`; a name `value` does not know is an
/// error naming it.
pub fn expand(word: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(word.len());
    let mut unknown = None;
    scan(word, |piece| match piece {
        Piece::Text(text) => out.push_str(text),
        Piece::Name(name) => match value(name) {
            Some(value) => out.push_str(&value),
            None => {
                unknown.get_or_insert_with(|| name.to_string());
            }
        },
    })?;
    match unknown {
        Some(name) => Err(format!("unknown placeholder `{{{name}}}`")),
        None => Ok(out),
    }
}

enum Piece<'a> {
    Text(&'a str),
    Name(&'a str),
}

fn scan<'a>(word: &'a str, mut each: impl FnMut(Piece<'a>)) -> Result<(), String> {
    let mut rest = word;
    while let Some(open) = rest.find(['{', '}']) {
        each(Piece::Text(&rest[..open]));
        let after = &rest[open + 1..];
        if rest[open..].starts_with("{{") {
            each(Piece::Text("{"));
            rest = &after[1..];
        } else if rest[open..].starts_with("}}") {
            each(Piece::Text("}"));
            rest = &after[1..];
        } else if rest[open..].starts_with('}') {
            return Err(format!("`}}` without `{{` in `{word}`; write `}}}}` for a literal brace"));
        } else {
            let Some(close) = after.find('}') else {
                return Err(format!("`{{` without `}}` in `{word}`; write `{{{{` for a literal brace"));
            };
            let name = &after[..close];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("`{{{name}}}` in `{word}` is not a placeholder name"));
            }
            each(Piece::Name(name));
            rest = &after[close + 1..];
        }
    }
    each(Piece::Text(rest));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(word: &str) -> Result<String, String> {
        expand(word, |name| match name {
            "url" => Some("ws://127.0.0.1:9000/".into()),
            "index" => Some("3".into()),
            _ => None,
        })
    }

    #[test]
    fn placeholders_are_filled_and_braces_escaped() {
        let cases = [
            ("{url}", "ws://127.0.0.1:9000/"),
            ("--url={url}", "--url=ws://127.0.0.1:9000/"),
            ("client-{index}.log", "client-3.log"),
            ("{index}{index}", "33"),
            ("plain", "plain"),
            ("{{\"json\": {index}}}", "{\"json\": 3}"),
            ("", ""),
        ];
        for (word, expected) in cases {
            assert_eq!(fill(word).as_deref(), Ok(expected), "{word}");
        }
    }

    #[test]
    fn bad_words_say_what_is_wrong() {
        let cases = [
            ("{port}", "unknown placeholder `{port}`"),
            ("{url", "`{` without `}`"),
            ("a}b", "`}` without `{`"),
            ("{}", "`{}` in `{}` is not a placeholder name"),
            ("{a b}", "is not a placeholder name"),
        ];
        for (word, expected) in cases {
            let error = fill(word).unwrap_err();
            assert!(error.contains(expected), "{word}: {error}");
        }
    }

    #[test]
    fn placeholders_lists_the_names_in_order() {
        assert_eq!(placeholders("{url}?c={index}&{{x}}"), Ok(vec!["url", "index"]));
        assert_eq!(placeholders("none"), Ok(vec![]));
        assert!(placeholders("{bad").is_err());
    }
}
