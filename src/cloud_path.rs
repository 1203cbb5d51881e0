//! The cloudPath rule, shared by the client (checked before any request) and
//! the emulator (which refuses what the client refuses and keeps keys
//! literally, so `x/../victim.bin` can never name `victim.bin`).

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::WxError;

/// COS keys are at most 850 bytes of UTF-8.
pub const MAX_CLOUD_PATH_BYTES: usize = 850;

/// Why a cloud path is refused, with how to fix it, or `Ok`.
pub fn check(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("cloudPath is empty: pass a path such as 'images/a.png'".into());
    }
    if path.starts_with('/') {
        return Err(format!(
            "cloudPath must not start with '/': use '{}'",
            path.trim_start_matches('/')
        ));
    }
    if path.len() > MAX_CLOUD_PATH_BYTES {
        return Err(format!(
            "cloudPath is {} bytes long; the limit is {MAX_CLOUD_PATH_BYTES} bytes",
            path.len()
        ));
    }
    if let Some(segment) = path.split('/').find(|s| *s == "." || *s == "..") {
        return Err(format!(
            "cloudPath must not contain '{segment}' segments (the key is taken literally and \
             servers or URLs may resolve them to another file): write the path out, e.g. 'a/b.png'"
        ));
    }
    if let Some((index, c)) = path.char_indices().find(|(_, c)| !is_visible(*c)) {
        return Err(format!(
            "cloudPath contains invisible or control characters: {} U+{:04X} at byte {index} \
             (such characters make one path look like another); remove it",
            kind_of(c),
            u32::from(c)
        ));
    }
    Ok(())
}

/// The client's form of [`check`]: an `INVALID_PARAM` error.
pub fn check_cloud_path(path: &str) -> Result<(), WxError> {
    check(path).map_err(WxError::invalid_param)
}

/// The JS string of a cloudPath as UTF-16 units: refused when it holds a
/// lone surrogate (which a UTF-8 read would silently turn into U+FFFD).
pub fn from_utf16(units: &[u16]) -> Result<String, WxError> {
    String::from_utf16(units).map_err(|_| {
        let index = lone_surrogate_at(units).unwrap_or(0);
        WxError::invalid_param(format!(
            "cloudPath is not valid UTF-16: a lone surrogate (U+{:04X}) at index {index}; \
             pass well-formed text (see String.prototype.toWellFormed())",
            units.get(index).copied().unwrap_or(0)
        ))
    })
}

fn lone_surrogate_at(units: &[u16]) -> Option<usize> {
    let mut i = 0;
    while i < units.len() {
        match units[i] {
            0xD800..=0xDBFF if matches!(units.get(i + 1), Some(0xDC00..=0xDFFF)) => i += 2,
            0xD800..=0xDFFF => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Not a control character and not an invisible format character
/// (general category Cf: bidi controls, zero-width characters, BOM, tags…).
fn is_visible(c: char) -> bool {
    !c.is_control() && c.general_category() != GeneralCategory::Format
}

fn kind_of(c: char) -> &'static str {
    match c {
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}' => "a bidirectional control character",
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => "a zero-width character",
        c if c.is_control() => "a control character",
        _ => "an invisible format character",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for ok in [
            "a/b.png",
            "图片/猫.jpg",
            "a.b/c..d/...",
            "x/.hidden",
            "emoji-😀.png",
            "a b",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        assert!(check(&"x".repeat(850)).is_ok());
    }

    #[test]
    fn refuses_dot_segments() {
        for bad in [
            "../b.png",
            "a/../../b.png",
            "./a/./b.png",
            "a/..",
            ".",
            "a/./b",
        ] {
            let e = check(bad).expect_err(bad);
            assert!(e.contains("segments"), "{bad}: {e}");
        }
    }

    #[test]
    fn refuses_invisible_and_bidi_characters() {
        let cases = [
            ('\u{202E}', "bidirectional"),
            ('\u{202A}', "bidirectional"),
            ('\u{2066}', "bidirectional"),
            ('\u{2069}', "bidirectional"),
            ('\u{200E}', "bidirectional"),
            ('\u{200F}', "bidirectional"),
            ('\u{061C}', "bidirectional"),
            ('\u{200B}', "zero-width"),
            ('\u{200D}', "zero-width"),
            ('\u{2060}', "zero-width"),
            ('\u{FEFF}', "zero-width"),
            ('\u{00AD}', "invisible format"),
            ('\u{E0041}', "invisible format"),
            ('\u{7}', "control"),
            ('\u{85}', "control"),
        ];
        for (c, kind) in cases {
            let path = format!("a/b{c}c.png");
            let e = check(&path).expect_err(&path);
            assert!(e.contains(kind), "{c:?}: {e}");
            assert!(e.contains(&format!("U+{:04X}", u32::from(c))), "{e}");
        }
    }

    #[test]
    fn other_rules_stay() {
        assert!(check("").is_err());
        assert!(check("/a").expect_err("slash").contains("use 'a'"));
        assert!(check(&"x".repeat(851)).is_err());
    }

    #[test]
    fn lone_surrogates_are_found() {
        let good: Vec<u16> = "a/😀.png".encode_utf16().collect();
        assert_eq!(from_utf16(&good).expect("valid"), "a/😀.png");
        for (units, at) in [
            (vec![0x61, 0xD800, 0x62], 1),
            (vec![0xDC00], 0),
            (vec![0x61, 0xD83D], 1),
            (vec![0xD83D, 0xDE00, 0xDE00], 2),
        ] {
            let e = from_utf16(&units).expect_err("lone");
            assert!(e.detail.contains(&format!("at index {at}")), "{}", e.detail);
        }
    }
}
