//! Any JSON value as a record of every format: field extraction, trajectory extraction, and
//! both prompt serializations of whatever trajectory comes out.
#![no_main]
use libfuzzer_sys::fuzz_target;
use swerm::input::Format;
use swerm::input::formats::{extract, trajectory};
use swerm::loc::Loc;
use swerm::prompt::{r2egym, swegym};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let _ = Format::detect(&v);
    let src = Loc::line("fuzz.jsonl", 1, 0);
    for f in [Format::Predictions, Format::OpenHands, Format::SweAgent, Format::Chat] {
        let _ = extract(&v, f, &src, Some("a.b"));
        if let Ok(Some(t)) = trajectory(&v, f) {
            let _ = swegym::strip_icl(&swegym::format_traj(&t.messages));
            let steps = r2egym::steps_from_messages(&t.messages);
            let mut u = r2egym::user_message(t.problem_statement.as_deref().unwrap_or(""), &steps, "patch");
            for _ in 0..4 {
                match r2egym::condense_once(&u) {
                    Some(x) => u = x,
                    None => break,
                }
            }
        }
    }
});
