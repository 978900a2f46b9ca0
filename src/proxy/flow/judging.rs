//! How a link's active faults judge what the frame stage shows them: each frame (kept, or
//! dropped unless the stream's compression refers back to it), each upgrade request, and the
//! faults that cannot act on a link the observer stopped following.

use bytes::Bytes;

use super::Hits;
use crate::fault::{FaultId, FrameVerdict, LinkFault};
use crate::proxy::NotApplied;
use crate::proxy::framing::Judge;
use crate::ws::Way;
use crate::ws::observer::{Frame, Head, LinkObserver, Stop};

/// The active faults, asked by the frame stage.
pub(super) struct Judging<'a> {
    pub(super) faults: &'a mut [(FaultId, Box<dyn LinkFault>)],
    pub(super) hits: &'a mut Hits,
    /// What the link's upgrade negotiated, which decides whether a message may vanish.
    pub(super) observer: &'a LinkObserver,
}

impl Judge for Judging<'_> {
    fn frame(&mut self, way: Way, frame: &Frame) -> FrameVerdict {
        let mut verdict = FrameVerdict::Keep;
        // A message the stream's compression refers back to cannot vanish: the fault is not
        // applied to it, rather than applied and the rest of the stream left as garbage.
        let protected = self.observer.compressed_with_context(way, frame);
        // Every fault is asked, so each one's seeded draws do not depend on the others.
        for (id, fault) in self.faults.iter_mut().filter(|(_, fault)| fault.needs_observer(way)) {
            if fault.on_frame(way, frame) == FrameVerdict::Drop {
                if protected {
                    self.hits.not_applied(*id, NotApplied::Compressed(way));
                    continue;
                }
                self.hits.record(*id);
                verdict = FrameVerdict::Drop;
            }
        }
        verdict
    }

    fn request(&mut self, head: &Head) -> Option<(FaultId, Bytes)> {
        self.faults.iter_mut().find_map(|(id, fault)| fault.on_request(head).map(|answer| (*id, answer)))
    }

    fn cannot_apply(&mut self, fault: FaultId, why: Stop) {
        self.hits.not_applied(fault, NotApplied::Unfollowed(why));
    }
}
