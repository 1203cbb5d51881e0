//! "Did you mean …?" for misspelt names: the closest known name by
//! camelCase/snake_case-insensitive comparison, then by edit distance.

/// `name` without case, `_` or `-`: `base_url`, `BaseURL` and `baseUrl`
/// all read `baseurl`.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The known name `name` most likely meant, if one is close enough: the same
/// name in another case style, or one at most two edits away (a swap of two
/// neighbours counts as one edit) and not a rewrite of most of it.
pub fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let folded = fold(name);
    if let Some(same) = known.iter().find(|k| fold(k) == folded) {
        return Some(same);
    }
    let limit = (folded.chars().count() / 3).clamp(1, 2);
    known
        .iter()
        .map(|k| (strsim::osa_distance(&folded, &fold(k)), *k))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["timeout", "maxConcurrency", "baseUrl", "json", "transfer"];

    #[test]
    fn finds_typos_and_case_styles() {
        assert_eq!(closest("timout", KNOWN), Some("timeout"));
        assert_eq!(closest("maxConcurency", KNOWN), Some("maxConcurrency"));
        assert_eq!(closest("base_url", KNOWN), Some("baseUrl"));
        assert_eq!(closest("BASE_URL", KNOWN), Some("baseUrl"));
        assert_eq!(closest("max-concurrency", KNOWN), Some("maxConcurrency"));
        assert_eq!(closest("jsno", KNOWN), Some("json"));
    }

    #[test]
    fn says_nothing_when_nothing_is_close() {
        assert_eq!(closest("colour", KNOWN), None);
        assert_eq!(closest("js", KNOWN), None);
        assert_eq!(closest("", KNOWN), None);
    }
}
