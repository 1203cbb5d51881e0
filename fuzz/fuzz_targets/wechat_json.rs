//! WeChat JSON replies: the reply classifier, errcode reading, batch item
//! matching, the media/upload reply and the token reply's expires_in.
#![no_main]
use libfuzzer_sys::fuzz_target;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use wx_media::batch::{item_outcome, match_by_file_id, reply_items};
use wx_media::media::{parse_upload_reply, MediaType};
use wx_media::reply::{errcode_of, parse_json};
use wx_media::token::trusted_expires_in;

mod common;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = common::split(data);
    let headers = common::headers(&[(CONTENT_TYPE, content_type)]);
    let json = parse_json(&headers, body);
    let _ = errcode_of(json.as_ref());
    let _ = parse_upload_reply(json.as_ref(), MediaType::Image);
    let ttl = trusted_expires_in(json.as_ref().and_then(|j| j.get("expires_in")));
    assert!(
        (60..=7200).contains(&ttl),
        "expires_in {ttl} escaped the clamp"
    );
    for key in ["file_list", "delete_list"] {
        if let Ok(items) = reply_items(json.as_ref(), key) {
            let mut asked: Vec<&str> = items
                .iter()
                .filter_map(|i| i.get("fileid").and_then(Value::as_str))
                .collect();
            asked.push("cloud://never-answered");
            let matched = match_by_file_id(&asked, items);
            assert_eq!(matched.len(), asked.len(), "one outcome per asked item");
            for (id, item) in asked.iter().zip(&matched) {
                if let Some(item) = item {
                    assert_eq!(item.get("fileid").and_then(Value::as_str), Some(*id));
                }
                let _ = item_outcome(*item);
            }
            assert!(matched.last().is_some_and(Option::is_none));
        }
    }
});
