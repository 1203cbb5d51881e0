//! Unit tests of the remote sources: URLs lose query and credentials, the env of a fileID, the capped head.

use super::*;

#[test]
fn urls_lose_query_and_credentials() {
    assert_eq!(
        redacted_url("https://u:p@cdn.example:8443/a/b.png?sign=s3cret#x"),
        "https://cdn.example:8443/a/b.png"
    );
    assert_eq!(redacted_url("nope"), "(an invalid URL)");
}

#[test]
fn env_comes_from_the_file_id() {
    assert_eq!(env_of("cloud://env-1.7465-env-1-1/a/b.png"), Some("env-1"));
    assert_eq!(env_of("cloud:///a"), None);
}

#[test]
fn head_is_capped() {
    let chunks = [Bytes::from_static(b"abc"), Bytes::from_static(b"defg")];
    assert_eq!(&concat(&chunks, 5)[..], b"abcde");
    assert_eq!(&concat(&chunks[..1], 2)[..], b"ab");
}
