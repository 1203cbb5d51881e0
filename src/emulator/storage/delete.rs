//! Deleting stored files: `/tcb/batchdeletefile` and the gateway's delete.

use serde_json::{json, Value};

use super::super::http::{Incoming, Reply, WxError};
use super::super::state::{lock, Shared};
use super::{batch_list, item_error, parse_file_id, reply_of, tcb_body};

/// Deletes a stored file, or the item's errcode.
pub(crate) fn delete_object(shared: &Shared, file_id: &str) -> Result<(), i64> {
    let id = parse_file_id(shared, file_id).ok_or(-501007)?;
    lock(&shared.storage)
        .objects
        .remove(&(id.bucket, id.path))
        .map(|_| ())
        .ok_or(-503003)
}

/// `POST /tcb/batchdeletefile {env, fileid_list:[…]}`
pub(crate) fn handle_batch_delete(shared: &Shared, req: &Incoming) -> Reply {
    reply_of(batch_delete(shared, req))
}

fn batch_delete(shared: &Shared, req: &Incoming) -> Result<Value, WxError> {
    let (body, _) = tcb_body(shared, req)?;
    let items = batch_list(&body, "fileid_list")?;
    let mut storage = lock(&shared.storage);
    let delete_list: Vec<Value> = items
        .iter()
        .map(|item| {
            let file_id = item.as_str().unwrap_or_default();
            match parse_file_id(shared, file_id) {
                None => item_error(
                    file_id,
                    "",
                    -501007,
                    "invalid parameters, fileid is invalid",
                ),
                Some(id) => match storage.objects.remove(&(id.bucket, id.path)) {
                    Some(_) => json!({ "fileid": file_id, "status": 0, "errmsg": "ok" }),
                    None => item_error(file_id, "", -503003, "storage file not exists"),
                },
            }
        })
        .collect();
    Ok(json!({ "errcode": 0, "errmsg": "ok", "delete_list": delete_list }))
}
