//! The standalone proxy's words: event lines, warnings for targets that can never hit.

use super::*;
use crate::fault::FaultId;
use crate::proxy::CloseCause;
use crate::scenario::FrameKind;
use crate::ws::Way;

const SCENARIO: &str = "version: 1\nname: t\nduration: 60s\nclients: { count: 4 }\nfaults:\n  \
    - at: 1s\n    reset: {}\n    target: { share: 50% }\n  \
    - every: 10s\n    for: 2s\n    stall: {}\n    target: { clients: [1] }\n  \
    - at: 1s\n    reset: {}\n";

fn id(plan: u64, occurrence: u64) -> FaultId {
    FaultId { plan, occurrence }
}

fn opened(link: u64) -> EventKind {
    EventKind::LinkOpened { link: LinkId(link), peer: "127.0.0.1:1".parse().unwrap() }
}

#[test]
fn warns_once_per_entry_at_the_end_of_a_fault_no_named_link_could_meet() {
    let scenario = Scenario::parse(SCENARIO, "t.yaml").unwrap();
    let mut unnamed = UnnamedTargets::new(Some(&scenario));
    let reset = |plan| EventKind::FaultStarted { fault: id(plan, 0), name: "reset" };
    let stall = |occurrence| EventKind::FaultStarted { fault: id(1, occurrence), name: "stall" };
    let end = |occurrence| EventKind::FaultEnded { fault: id(1, occurrence) };
    assert_eq!(unnamed.see(&opened(0)), None);
    assert!(unnamed.see(&reset(0)).is_some_and(|w| w.starts_with("warning: faults[0] targets")));
    assert_eq!(unnamed.see(&reset(2)), None, "`all` needs no name");
    assert_eq!(unnamed.see(&stall(0)), None, "a lasting fault is judged at its end");
    assert!(unnamed.see(&end(0)).is_some_and(|w| w.starts_with("warning: faults[1] targets")));
    assert_eq!(unnamed.see(&stall(1)), None);
    assert_eq!(unnamed.see(&end(1)), None, "once per entry, not per repetition");
}

#[test]
fn events_are_described_in_words() {
    let at = Instant::now();
    let line = |kind| describe(&ProxyEvent { at, kind });
    let link = LinkId(3);
    let cases = [
        (
            EventKind::LinkClosed { link, cause: CloseCause::FaultReset(id(0, 1)) },
            "link 3 closed: reset by faults[0]#1",
        ),
        (
            EventKind::LinkClosed {
                link,
                cause: CloseCause::ClientError(std::io::ErrorKind::ConnectionReset),
            },
            "link 3 closed: the client reset the connection",
        ),
        (
            EventKind::LinkClosed { link, cause: CloseCause::Finished },
            "link 3 closed: the client and the server both closed",
        ),
        (
            EventKind::ControlFrame {
                link,
                way: Way::Downstream,
                kind: FrameKind::Ping,
                close_code: None,
                swallowed: true,
            },
            "link 3 ping downstream (swallowed by a fault)",
        ),
        (
            EventKind::ControlFrame {
                link,
                way: Way::Upstream,
                kind: FrameKind::Close,
                close_code: Some(1000),
                swallowed: false,
            },
            "link 3 close upstream 1000",
        ),
    ];
    for (kind, expected) in cases {
        assert_eq!(line(kind), expected);
    }
}

#[test]
fn a_link_that_says_which_client_it_is_silences_the_warning() {
    let scenario = Scenario::parse(SCENARIO, "t.yaml").unwrap();
    let mut unnamed = UnnamedTargets::new(Some(&scenario));
    unnamed.see(&opened(0));
    unnamed.see(&EventKind::FaultStarted { fault: id(1, 0), name: "stall" });
    unnamed.see(&opened(1));
    unnamed.see(&EventKind::LinkIdentified { link: LinkId(1), client: 3 });
    assert_eq!(unnamed.see(&EventKind::FaultEnded { fault: id(1, 0) }), None, "named while it ran");
    assert_eq!(unnamed.see(&EventKind::FaultStarted { fault: id(0, 0), name: "reset" }), None);
    unnamed.see(&EventKind::LinkClosed { link: LinkId(1), cause: CloseCause::Finished });
    let warning = unnamed.see(&EventKind::FaultStarted { fault: id(0, 1), name: "reset" });
    assert!(warning.is_some(), "the named link had gone");
}
