//! Unit tests of the cloud path and fileID checks and of upload file names.

use super::wechat::ascii_file_name;
use super::*;

#[test]
fn cloud_path_rules() {
    assert!(check_cloud_path("a/b.png").is_ok());
    assert!(check_cloud_path("").is_err());
    assert!(check_cloud_path("/a")
        .expect_err("slash")
        .detail
        .contains("use 'a'"));
    assert!(check_cloud_path(&"x".repeat(851)).is_err());
    assert!(check_cloud_path(&"x".repeat(850)).is_ok());
    assert!(check_cloud_path("a\nb").is_err());
}

#[test]
fn file_id_rules() {
    assert!(check_file_id("cloud://env.bucket/a.png", "fileID").is_ok());
    assert!(check_file_id("https://x", "fileID").is_err());
    assert!(check_file_id("cloud://", "fileID").is_err());
}

#[test]
fn file_names_are_ascii() {
    assert_eq!(ascii_file_name("dir/图片 1.png"), "___1.png");
    assert_eq!(ascii_file_name("dir/图片"), "file");
    assert_eq!(ascii_file_name("a.txt"), "a.txt");
}
