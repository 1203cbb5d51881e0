//! Batch calls of Cloud Base storage (`getTempFileURL`, `deleteFile`, the
//! link lookup of `downloadFile`): splitting into calls of at most 50,
//! matching each answer to its item by fileID (never by position), and what
//! a rejection says when only some batches completed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use serde_json::Value;

use crate::error::{BatchItemReport, ItemState, WxError, LOCAL_ERR_CODE};

/// WeChat takes at most this many files per batch call.
pub const BATCH_LIMIT: usize = 50;
/// Batch calls of one request in flight at once.
const BATCH_CONCURRENCY: usize = 4;

/// An item asked for in a batch: it names a fileID.
pub trait Asked {
    fn file_id(&self) -> &str;
}

impl Asked for String {
    fn file_id(&self) -> &str {
        self
    }
}

/// An item's result, as reported in a partial failure.
pub trait Answered {
    fn report(&self) -> BatchItemReport;
}

/// The per-item array `key` of a batch reply.
pub fn reply_items<'a>(json: Option<&'a Value>, key: &str) -> Result<&'a [Value], WxError> {
    json.and_then(|j| j.get(key))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| WxError::http_status(200, format!("batch reply has no {key}")))
}

/// The answer for each asked fileID, in the order asked, matched by the
/// answer's `fileid`. The same fileID asked twice takes the answers for it in
/// turn. An answer for nothing asked is dropped; an asked item with no answer
/// gets `None` (that item's failure).
pub fn match_by_file_id<'a>(asked: &[&str], answered: &'a [Value]) -> Vec<Option<&'a Value>> {
    let mut by_id: HashMap<&str, VecDeque<&Value>> = HashMap::new();
    for item in answered {
        if let Some(id) = item.get("fileid").and_then(Value::as_str) {
            by_id.entry(id).or_default().push_back(item);
        }
    }
    asked
        .iter()
        .map(|id| by_id.get_mut(id).and_then(VecDeque::pop_front))
        .collect()
}

/// `status` and `errMsg` of one matched answer; a missing one is a failure.
pub fn item_outcome(item: Option<&Value>) -> (i64, String) {
    let Some(item) = item else {
        return (
            LOCAL_ERR_CODE,
            "the reply has no answer for this fileID".to_string(),
        );
    };
    let status = match item.get("status") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(LOCAL_ERR_CODE),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(LOCAL_ERR_CODE),
        None => 0,
        Some(_) => LOCAL_ERR_CODE,
    };
    let err_msg = match item.get("errmsg").and_then(Value::as_str) {
        Some(msg) if !msg.is_empty() => crate::secrets::scrub(msg),
        _ if status == 0 => "ok".to_string(),
        _ => crate::error::errcode_text(status).to_string(),
    };
    (status, err_msg)
}

/// Splits `items` into calls of at most [`BATCH_LIMIT`], runs a few at once,
/// and concatenates the results in input order. After a batch fails no new
/// batch starts (the ones in flight finish); the rejection is the first
/// failure in input order, with `file_list` saying for every item whether
/// its batch completed (with its result), failed, or was not attempted.
pub async fn in_batches<T, R, F, Fut>(items: Vec<T>, call: F) -> Result<Vec<R>, WxError>
where
    T: Asked,
    R: Answered,
    F: Fn(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<R>, WxError>>,
{
    let total = items.len();
    let mut batches = Vec::with_capacity(total.div_ceil(BATCH_LIMIT));
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        batches.push(items.by_ref().take(BATCH_LIMIT).collect::<Vec<_>>());
    }
    let ids: Vec<Vec<String>> = batches
        .iter()
        .map(|b| b.iter().map(|i| i.file_id().to_string()).collect())
        .collect();
    let stop = AtomicBool::new(false);
    let (stop, call) = (&stop, &call);
    let outcomes: Vec<Option<Result<Vec<R>, WxError>>> =
        futures_util::stream::iter(batches.into_iter().map(|batch| async move {
            if stop.load(Ordering::Acquire) {
                return None;
            }
            let result = call(batch).await;
            if result.is_err() {
                stop.store(true, Ordering::Release);
            }
            Some(result)
        }))
        .buffered(BATCH_CONCURRENCY)
        .collect()
        .await;
    if outcomes.iter().all(|o| matches!(o, Some(Ok(_)))) {
        return Ok(outcomes
            .into_iter()
            .flatten()
            .flat_map(Result::unwrap_or_default)
            .collect());
    }
    Err(partial_failure(outcomes, ids, total))
}

fn partial_failure<R: Answered>(
    outcomes: Vec<Option<Result<Vec<R>, WxError>>>,
    ids: Vec<Vec<String>>,
    total: usize,
) -> WxError {
    let mut first: Option<WxError> = None;
    let mut reports = Vec::with_capacity(total);
    let mut done = 0;
    for (outcome, ids) in outcomes.into_iter().zip(ids) {
        match outcome {
            Some(Ok(results)) => {
                done += results.len();
                reports.extend(results.iter().map(Answered::report));
            }
            Some(Err(e)) => {
                reports.extend(ids.into_iter().map(|file_id| BatchItemReport {
                    file_id,
                    state: ItemState::Failed,
                    status: e.err_code,
                    err_msg: e.detail.clone(),
                    temp_file_url: None,
                }));
                first.get_or_insert(e);
            }
            None => reports.extend(ids.into_iter().map(|file_id| BatchItemReport {
                file_id,
                state: ItemState::NotAttempted,
                status: LOCAL_ERR_CODE,
                err_msg: "not attempted: an earlier batch failed".to_string(),
                temp_file_url: None,
            })),
        }
    }
    let mut err = first.unwrap_or_else(|| WxError::http_status(0, "a batch failed"));
    err.detail.push_str(&format!(
        " ({done} of {total} items completed; err.fileList has each item's outcome)"
    ));
    err.file_list = reports;
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Got(String);
    impl Answered for Got {
        fn report(&self) -> BatchItemReport {
            BatchItemReport {
                file_id: self.0.clone(),
                state: ItemState::Done,
                status: 0,
                err_msg: "ok".into(),
                temp_file_url: None,
            }
        }
    }

    #[test]
    fn answers_are_matched_by_file_id() {
        let answered = [
            json!({"fileid": "b", "status": 0}),
            json!({"fileid": "x", "status": 0}),
            json!({"fileid": "a", "status": 1}),
            json!({"fileid": "a", "status": 2}),
            json!({"status": 0}),
        ];
        let m = match_by_file_id(&["a", "b", "a", "c", "a"], &answered);
        let status = |i: usize| m[i].and_then(|v| v.get("status")).cloned();
        assert_eq!(status(0), Some(json!(1)));
        assert_eq!(status(1), Some(json!(0)));
        assert_eq!(status(2), Some(json!(2)));
        assert!(m[3].is_none() && m[4].is_none());
        assert_eq!(item_outcome(None).0, -1);
    }

    #[tokio::test]
    async fn batches_keep_order() {
        let items: Vec<String> = (0..120).map(|i| i.to_string()).collect();
        let sizes = std::sync::Mutex::new(Vec::new());
        let out = in_batches(items, |b| {
            sizes.lock().expect("lock").push(b.len());
            async move { Ok(b.into_iter().map(Got).collect()) }
        })
        .await
        .expect("ok");
        let ids: Vec<String> = out.into_iter().map(|g| g.0).collect();
        assert_eq!(ids, (0..120).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(*sizes.lock().expect("lock"), vec![50, 50, 20]);
    }

    #[tokio::test]
    async fn a_failed_batch_reports_every_item() {
        let items: Vec<String> = (0..200).map(|i| format!("f{i}")).collect();
        let err = in_batches(items, |b| async move {
            if b[0] == "f50" {
                // Let the first batch finish first, so the order is known.
                tokio::task::yield_now().await;
                Err(WxError::network("reset"))
            } else {
                Ok(b.into_iter().map(Got).collect())
            }
        })
        .await
        .err()
        .expect("fails");
        assert_eq!(err.file_list.len(), 200);
        assert_eq!(err.file_list[0].state, ItemState::Done);
        assert_eq!(err.file_list[50].state, ItemState::Failed);
        assert_eq!(err.file_list[99].file_id, "f99");
        assert!(
            err.detail.contains("of 200 items completed"),
            "{}",
            err.detail
        );
    }
}
