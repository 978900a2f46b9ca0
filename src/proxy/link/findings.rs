//! What a link makes of what it learns: the event each finding of the frame observer makes
//! (the upgrade's answer, the first data frame each way, every control frame and whether a
//! fault swallowed it, the observer giving up), and what a command from control does to the
//! link's flow.

use tokio::time::Instant;

use super::super::LinkId;
use super::super::control::{Control, LinkCommand};
use super::super::events::EventKind;
use super::super::flow::{Flow, is_control_end};
use super::End;
use crate::fault::LinkAction;
use crate::scenario::FrameKind;
use crate::ws::Way;
use crate::ws::observer::{Head, Token};

/// The event one finding of the observer makes, if any (identification is handled before the
/// chunk goes through the faults). `control_ends` counts the control frames that ended so far
/// in the chunk, to ask `flow` whether each was swallowed.
pub(super) fn report(
    link: LinkId,
    way: Way,
    finding: &Token,
    data: &mut [bool; 2],
    control: &Control,
    flow: &Flow,
    control_ends: &mut usize,
) {
    let events = control.events();
    match finding {
        Token::Head(Head::Request { .. }) | Token::ServerName(_) => {}
        Token::Head(Head::Response { status, .. }) => {
            events.emit(EventKind::Upgraded { link, status: *status })
        }
        Token::Frame(frame) => {
            let data_frame = matches!(frame.kind, FrameKind::Text | FrameKind::Binary);
            if data_frame && !std::mem::replace(&mut data[way as usize], true) {
                events.emit(EventKind::FirstData { link, way });
            }
        }
        Token::FrameEnd(done) => {
            if is_control_end(finding) {
                let swallowed = flow.control_frame_swallowed(*control_ends);
                *control_ends += 1;
                events.emit(EventKind::ControlFrame {
                    link,
                    way,
                    kind: done.kind,
                    close_code: done.close_code,
                    swallowed,
                });
            }
        }
        Token::Stopped { way, why } => events.emit(EventKind::ObserverStopped { link, way: *way, why: *why }),
        Token::Bytes { .. } => {}
    }
}

/// Applies a control command; returns how the link ends if the command ends it.
pub(super) fn obey(flow: &mut Flow, command: LinkCommand) -> Option<End> {
    match command {
        LinkCommand::Start(id, fault) => match flow.start(id, fault, Instant::now()) {
            LinkAction::Nothing | LinkAction::SendClose(_) => None,
            LinkAction::Reset => Some(End::Reset(id)),
            LinkAction::Close => Some(End::Close(id)),
        },
        LinkCommand::End(id) => {
            flow.end(id);
            None
        }
    }
}
