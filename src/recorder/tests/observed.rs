//! Recovery seen at the proxy, from proxy events alone (no client event in these scripts).

use super::{Script, assert_close, fault};
use crate::proxy::{EventKind, LinkId};
use crate::ws::Way;

impl Script {
    fn upgraded(self, t: f64, link: u64, status: u16) -> Script {
        self.proxy(t, EventKind::Upgraded { link: LinkId(link), status })
    }

    fn first_echo(self, t: f64, link: u64) -> Script {
        self.proxy(t, EventKind::FirstData { link: LinkId(link), way: Way::Downstream })
    }

    fn arrived(self, t: f64, link: u64) -> Script {
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 1024 + link as u16));
        self.proxy(t, EventKind::LinkOpened { link: LinkId(link), peer })
    }

    /// A link of `client` identified at `t`, answered 101 at `t + 0.1` and echoing at `t + 0.2`.
    fn useful_link(self, t: f64, link: u64, client: u32) -> Script {
        self.identified(t, link, client).upgraded(t + 0.1, link, 101).first_echo(t + 0.2, link)
    }
}

#[test]
fn recovery_is_measured_from_proxy_events_alone() {
    let cases: Vec<(&str, Script, &[f64])> = vec![
        (
            "a reset: from the hit to the next link's first echo",
            Script::new(1, true, 20.0)
                .useful_link(0.0, 0, 0)
                .hit(5.0, fault(0, 0), Some(0))
                .closed(5.0, 0)
                .useful_link(5.1, 1, 0),
            &[0.3],
        ),
        (
            "a blackholed link that never closes is over when the client's next link names it",
            Script::new(1, true, 20.0)
                .useful_link(0.0, 0, 0)
                .hit(5.0, fault(0, 0), Some(0))
                .useful_link(9.0, 1, 0),
            &[4.2],
        ),
        (
            "an abandoned attempt answered late is not the recovery, nor an incident",
            Script::new(1, true, 20.0)
                .useful_link(0.0, 0, 0)
                .closed(5.0, 0)
                .identified(6.0, 1, 0)
                .identified(7.0, 2, 0)
                .upgraded(8.0, 1, 101)
                .closed(8.0, 1)
                .upgraded(8.0, 2, 101)
                .first_echo(8.1, 2),
            &[3.1],
        ),
        (
            "a client that never comes back gives no value; a refused upgrade is not open",
            Script::new(2, true, 20.0)
                .useful_link(0.0, 0, 0)
                .closed(5.0, 0)
                .identified(6.0, 1, 0)
                .upgraded(6.1, 1, 503)
                .useful_link(0.0, 2, 1),
            &[],
        ),
        (
            "without a workload a link is useful at its 101; hits before it opened do not count",
            Script::new(1, false, 20.0)
                .identified(0.0, 0, 0)
                .hit(0.05, fault(1, 0), Some(0))
                .upgraded(0.1, 0, 101)
                .closed(3.0, 0)
                .identified(3.5, 1, 0)
                .upgraded(4.0, 1, 101),
            &[1.0],
        ),
        (
            "links are a client's attempts in arrival order, whatever order they name it in",
            // Live flaky.yaml: a stall holds attempt 1 (arrived at 18 s) and attempt 2 (23 s);
            // at its end attempt 2 names the client a moment before attempt 1 does, and
            // attempt 1, given up by the client, is answered 101 and closes.
            Script::new(1, true, 40.0)
                .arrived(0.0, 0)
                .useful_link(0.0, 0, 0)
                .hit(15.0, fault(1, 0), Some(0))
                .arrived(18.0, 1)
                .hit(18.0, fault(1, 0), Some(1))
                .arrived(23.0, 2)
                .hit(23.0, fault(1, 0), Some(2))
                .identified(25.0, 2, 0)
                .identified(25.001, 1, 0)
                .upgraded(25.004, 2, 101)
                .upgraded(25.005, 1, 101)
                .closed(25.005, 1)
                .first_echo(25.006, 2)
                // Attempt 2 carries on until a reset at 33 s; attempt 3 is back at 33.3 s.
                .hit(33.0, fault(3, 0), Some(2))
                .closed(33.0, 2)
                .arrived(33.1, 3)
                .useful_link(33.1, 3, 0),
            &[10.006, 0.3],
        ),
    ];
    for (name, script, expected) in cases {
        assert_close(&script.finish().samples["observed_recovery_time"], expected, name);
    }
}
